// SIGTERM/SIGINT: drain, flush the prediction log, exit 0; nothing acknowledged is lost.
#include <sqlite3.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "integration/fixture.h"

namespace closedloop::testing {
namespace {

class ShutdownTest : public ServerFixture {};

std::set<std::string> LoggedIds(const std::string& db_path) {
  std::set<std::string> ids;
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return ids;
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "SELECT request_id FROM predictions", -1, &stmt, nullptr);
  while (sqlite3_step(stmt) == SQLITE_ROW) {
    ids.insert(reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)));
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return ids;
}

TEST_F(ShutdownTest, SigtermDuringLoadLosesNoAcknowledgedPrediction) {
  Start();
  std::mutex mu;
  std::vector<std::string> acknowledged;  // request ids that got a 200
  std::atomic<int> ok_count{0};
  std::atomic<bool> stop{false};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&, t] {
      auto conn = std::make_unique<Connection>(port_, std::chrono::seconds(5));
      for (int i = 0; !stop && i < 100000; ++i) {
        auto r = conn->Request("POST", "/v1/predict",
                               R"({"model":"support-intent","text":"card )" + std::to_string(t) +
                                   " " + std::to_string(i) + "\"}");
        if (r.status == 200) {
          std::lock_guard lock(mu);
          acknowledged.push_back(r.Header("X-Request-Id"));
          ++ok_count;
        }
        if (r.status == 0 || r.Header("Connection") == "close") {
          conn = std::make_unique<Connection>(port_, std::chrono::seconds(5));
          if (!conn->connected()) return;  // listener closed: the server is going away
        }
      }
    });
  }
  // Wait (bounded) until the load is real, then signal mid-stream.
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (ok_count < 2000 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::yield();
  }
  ASSERT_GE(ok_count.load(), 2000);
  server_->Signal(SIGTERM);
  auto code = server_->WaitExit(std::chrono::seconds(30));
  stop = true;
  for (auto& c : clients) c.join();
  ASSERT_EQ(code, 0) << server_->Stderr();
  auto logged = LoggedIds(dir_.File("predictions.db"));
  size_t missing = 0;
  for (const auto& id : acknowledged) missing += logged.count(id) ? 0 : 1;
  EXPECT_EQ(missing, 0u) << "of " << acknowledged.size() << " acknowledged";
  EXPECT_GE(logged.size(), acknowledged.size());
  EXPECT_NE(server_->Stderr().find("shutdown complete"), std::string::npos);
}

TEST_F(ShutdownTest, SigintExitsZeroAndStopsListening) {
  Start();
  ASSERT_EQ(Predict(R"({"model":"support-intent","text":"card"})").status, 200);
  server_->Signal(SIGINT);
  ASSERT_EQ(server_->WaitExit(std::chrono::seconds(20)), 0);
  Connection after(port_);
  EXPECT_FALSE(after.connected());
  EXPECT_EQ(LoggedIds(dir_.File("predictions.db")).size(), 1u);
}

}  // namespace
}  // namespace closedloop::testing
