// Prediction log write throughput: closedloop's group-commit writer vs. the
// obvious peer (one autocommit INSERT per prediction, as a request handler
// writing synchronously would do). Records look like real /v1/predict records.
#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "monitor/metrics.h"
#include "store/prediction_log.h"

namespace closedloop {
namespace {

PredictionRecord MakeRecord(int64_t i) {
  PredictionRecord r;
  char id[32];
  snprintf(id, sizeof id, "01JBENCH%018lld", static_cast<long long>(i));
  r.request_id = id;
  r.ts_ms = 1'795'000'000'000 + i;
  r.model = "support-intent";
  r.version = "1";
  r.input_sha256 = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
  r.input_text = "I still have not received my new card, when will it arrive?";
  r.label = "card_arrival";
  r.confidence = 0.8312;
  r.top_k_json =
      R"([{"label":"card_arrival","p":0.8312},{"label":"card_delivery_estimate","p":0.0911},)"
      R"({"label":"lost_or_stolen_card","p":0.0312},{"label":"card_linking","p":0.0121},)"
      R"({"label":"order_physical_card","p":0.0101}])";
  r.latency_ms = 0.071;
  return r;
}

std::string TempDb() {
  std::string dir = std::filesystem::temp_directory_path() / "cl-bench-XXXXXX";
  mkdtemp(dir.data());
  return dir + "/p.db";
}

// closedloop: Append from the caller, commit in groups on the writer thread.
void BM_GroupCommitWriter(benchmark::State& state) {
  std::string path = TempDb();
  MetricsRegistry metrics;
  PredictionLogConfig config;
  auto log = PredictionLog::Open(config, path, metrics);
  int64_t i = 0;
  for (auto _ : state) {
    auto r = MakeRecord(i++);
    while (!log.value()->Append(r)) {
      // Queue full: this measures sustained throughput, so wait for room.
      log.value()->Flush(std::chrono::milliseconds(100));
    }
  }
  log.value()->Stop();  // included: everything appended is committed
  state.SetItemsProcessed(i);
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}
BENCHMARK(BM_GroupCommitWriter)->Unit(benchmark::kMillisecond)->Iterations(300000)->UseRealTime();

// Peer: one INSERT per prediction in its own transaction (WAL, synchronous=NORMAL).
void BM_AutocommitInsertPeer(benchmark::State& state) {
  std::string path = TempDb();
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;", nullptr, nullptr,
               nullptr);
  sqlite3_exec(db,
               "CREATE TABLE predictions (request_id TEXT PRIMARY KEY, ts_ms INTEGER, model TEXT, "
               "version TEXT, input_sha256 TEXT, input_text TEXT, label TEXT, confidence REAL, "
               "top_k TEXT, latency_ms REAL) WITHOUT ROWID",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO predictions VALUES (?,?,?,?,?,?,?,?,?,?)", -1, &stmt,
                     nullptr);
  int64_t i = 0;
  for (auto _ : state) {
    auto r = MakeRecord(i++);
    sqlite3_bind_text(stmt, 1, r.request_id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(stmt, 2, r.ts_ms);
    sqlite3_bind_text(stmt, 3, r.model.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 4, r.version.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 5, r.input_sha256.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 6, r.input_text->c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(stmt, 7, r.label.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(stmt, 8, r.confidence);
    sqlite3_bind_text(stmt, 9, r.top_k_json.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_double(stmt, 10, r.latency_ms);
    sqlite3_step(stmt);
    sqlite3_reset(stmt);
  }
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  state.SetItemsProcessed(i);
  std::filesystem::remove_all(std::filesystem::path(path).parent_path());
}
BENCHMARK(BM_AutocommitInsertPeer)->Unit(benchmark::kMillisecond)->Iterations(50000)->UseRealTime();

}  // namespace
}  // namespace closedloop

BENCHMARK_MAIN();
