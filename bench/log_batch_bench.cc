// Tracking: one MLflow log-batch of 1,000 metrics (the target: <= 20 ms).
// closedloop's TrackingStore::LogBatch (validation, one transaction, real WAL file)
// against the floor any SQLite-backed tracking store must pay: 1,000 prepared
// INSERTs of the same rows in one transaction and nothing else. (MLflow's own
// server cannot be installed here: no PyPI; its SQLAlchemy store does more work
// per row than this floor.) The HTTP round trip is measured by
// bench/tracking_bench.sh against the real binary.
#include <benchmark/benchmark.h>
#include <sqlite3.h>
#include <stdlib.h>

#include <filesystem>
#include <string>

#include "core/clock.h"
#include "tracking/tracking_store.h"

namespace closedloop {
namespace {

std::string TempDir() {
  std::string dir = std::filesystem::temp_directory_path() / "cl-bench-XXXXXX";
  mkdtemp(dir.data());
  return dir;
}

std::vector<Metric> Batch(int64_t round) {
  std::vector<Metric> m;
  for (int i = 0; i < 1000; ++i) {
    m.push_back({"metric_" + std::to_string(i % 20), 0.5 + i * 1e-4, 1'795'000'000'000 + round,
                 round * 50 + i / 20});
  }
  return m;
}

void BM_ClosedloopLogBatch1000(benchmark::State& state) {
  std::string dir = TempDir();
  auto store = std::move(
      TrackingStore::Open(dir + "/tracking.db", dir + "/artifacts", SystemClock::Get()).value());
  std::string run = store->CreateRun("0", "bench", "me", std::nullopt, {}).value().run_id;
  int64_t round = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto batch = Batch(round++);
    state.ResumeTiming();
    if (!store->LogBatch(run, batch, {}, {}).ok()) state.SkipWithError("log-batch failed");
  }
  state.SetItemsProcessed(state.iterations() * 1000);
  store.reset();
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_ClosedloopLogBatch1000)->Unit(benchmark::kMillisecond)->Iterations(200)->UseRealTime();

void BM_SqliteFloorPeer1000(benchmark::State& state) {
  std::string dir = TempDir();
  sqlite3* db = nullptr;
  sqlite3_open((dir + "/floor.db").c_str(), &db);
  sqlite3_exec(db,
               "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"
               "CREATE TABLE metrics (run_id TEXT NOT NULL, key TEXT NOT NULL, step INTEGER NOT "
               "NULL, timestamp INTEGER NOT NULL, value REAL, is_nan INTEGER NOT NULL DEFAULT 0);"
               "CREATE INDEX m ON metrics(run_id, key, step, timestamp);",
               nullptr, nullptr, nullptr);
  sqlite3_stmt* ins = nullptr;
  sqlite3_prepare_v2(db, "INSERT INTO metrics VALUES (?, ?, ?, ?, ?, 0)", -1, &ins, nullptr);
  int64_t round = 0;
  for (auto _ : state) {
    state.PauseTiming();
    auto batch = Batch(round++);
    state.ResumeTiming();
    sqlite3_exec(db, "BEGIN", nullptr, nullptr, nullptr);
    for (const auto& m : batch) {
      sqlite3_bind_text(ins, 1, "0123456789abcdef0123456789abcdef", -1, SQLITE_STATIC);
      sqlite3_bind_text(ins, 2, m.key.c_str(), -1, SQLITE_STATIC);
      sqlite3_bind_int64(ins, 3, m.step);
      sqlite3_bind_int64(ins, 4, m.timestamp);
      sqlite3_bind_double(ins, 5, m.value);
      sqlite3_step(ins);
      sqlite3_reset(ins);
    }
    sqlite3_exec(db, "COMMIT", nullptr, nullptr, nullptr);
  }
  state.SetItemsProcessed(state.iterations() * 1000);
  sqlite3_finalize(ins);
  sqlite3_close(db);
  std::filesystem::remove_all(dir);
}
BENCHMARK(BM_SqliteFloorPeer1000)->Unit(benchmark::kMillisecond)->Iterations(200)->UseRealTime();

}  // namespace
}  // namespace closedloop

BENCHMARK_MAIN();
