// Dynamic batching through the real binary: concurrent OIP requests are merged
// into batches (observed in the metrics) with correct per-request results, and a
// full queue answers 503 with Retry-After.
#include <poll.h>

#include <filesystem>
#include <regex>
#include <thread>

#include "integration/fixture.h"
#include "support/onnx_models.h"

namespace closedloop::testing {
namespace {

class BatchingTest : public ServerFixture {
 protected:
  Mlp InstallMlp(const std::string& batching) {
    std::filesystem::create_directories(dir_.File("models/mlp/1"));
    Mlp m = WriteMlpModel(dir_.File("models/mlp/1/model.onnx"));
    WriteFile(dir_.File("models/mlp/1/config.toml"), "flavor = \"onnx\"\n" + batching);
    return m;
  }
  double Metric(const std::string& series) {
    auto body = Fetch(port_, "GET", "/metrics").body;
    std::smatch m;
    std::string escaped =
        std::regex_replace(series, std::regex(R"([{}\[\]().+*?^$|\\])"), R"(\$&)");
    if (!std::regex_search(body, m, std::regex(escaped + " ([0-9.e+-]+)"))) return -1;
    return std::stod(m[1]);
  }
  static std::string Body(int i) {
    return R"({"inputs":[{"name":"X","shape":[1,4],"datatype":"FP32","data":[)" +
           std::to_string(0.1 * i) + "," + std::to_string(-0.2 * i) + ",1,0.5]}]}";
  }
};

TEST_F(BatchingTest, ConcurrentRequestsShareBatches) {
  // Batches of exactly 8 rows: the batcher waits (up to 10 s) for 8 lockstep clients.
  Mlp mlp = InstallMlp("[batching]\nmax_batch_size = 8\nmax_queue_delay_us = 10000000\n");
  Start();
  std::atomic<int> wrong{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&, t] {
      Connection c(port_, std::chrono::seconds(30));
      for (int i = 0; i < 10; ++i) {
        auto r = c.Request("POST", "/v2/models/mlp/infer", Body(t));
        if (r.status != 200) {
          ++wrong;
          continue;
        }
        auto want = MlpReference(mlp, {0.1f * t, -0.2f * t, 1, 0.5f}, 1);
        auto j = ParseJson(r.body);
        for (int k = 0; k < 3; ++k) {
          double got = 0;
          if (j->root["outputs"].at(0)["data"].at(k).get(got) || std::abs(got - want[k]) > 1e-5) {
            ++wrong;
          }
        }
      }
    });
  }
  for (auto& c : clients) c.join();
  EXPECT_EQ(wrong.load(), 0);
  EXPECT_EQ(Metric(R"(closedloop_batch_size_count{model="mlp",version="1"})"), 10);
  EXPECT_EQ(Metric(R"(closedloop_batch_size_sum{model="mlp",version="1"})"), 80);
  EXPECT_GT(Metric(R"(closedloop_batch_queue_seconds_count{model="mlp",version="1"})"), 0);
}

TEST_F(BatchingTest, FullQueueAnswers503WithRetryAfter) {
  InstallMlp("[batching]\nmax_batch_size = 100\nmax_queue_delay_us = 500000\nmax_queue_size = 2\n");
  Start();
  Connection a(port_), b(port_);
  ASSERT_TRUE(a.SendRaw(BuildRequest("POST", "/v2/models/mlp/infer", Body(1),
                                     {{"Content-Type", "application/json"}})));
  ASSERT_TRUE(b.SendRaw(BuildRequest("POST", "/v2/models/mlp/infer", Body(2),
                                     {{"Content-Type", "application/json"}})));
  // Wait (bounded) until both are queued, then a third finds the queue full.
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (Metric(R"(closedloop_batch_queue_depth{model="mlp",version="1"})") < 2 &&
         std::chrono::steady_clock::now() < end) {
    poll(nullptr, 0, 5);
  }
  auto third = Fetch(port_, "POST", "/v2/models/mlp/infer", Body(3));
  EXPECT_EQ(third.status, 503) << third.body;
  EXPECT_EQ(third.Header("Retry-After"), "1");
  EXPECT_NE(third.body.find("batch queue is full"), std::string::npos);
  EXPECT_EQ(a.ReadResponse().status, 200);  // the queued ones complete after the delay
  EXPECT_EQ(b.ReadResponse().status, 200);
  EXPECT_EQ(Metric(R"(closedloop_batch_rejected_total{model="mlp",version="1"})"), 1);
}

}  // namespace
}  // namespace closedloop::testing
