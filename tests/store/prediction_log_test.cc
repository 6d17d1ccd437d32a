#include "store/prediction_log.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "store/migrations.h"
#include "support/temp_dir.h"

namespace closedloop {
namespace {

PredictionRecord Record(int i) {
  PredictionRecord r;
  r.request_id = "req-" + std::to_string(i);
  r.ts_ms = 1000 + i;
  r.model = "m";
  r.version = "1";
  r.input_sha256 = "abc";
  r.input_text = "text " + std::to_string(i);
  r.label = "card_arrival";
  r.confidence = 0.5;
  r.top_k_json = R"([{"label":"card_arrival","p":0.5}])";
  r.latency_ms = 0.25;
  return r;
}

TEST(PredictionLogTest, AppendedRecordsCanBeReadBack) {
  testing::TempDir dir;
  MetricsRegistry metrics;
  auto log = PredictionLog::Open(PredictionLogConfig{}, dir.File("p.db"), metrics);
  ASSERT_TRUE(log.ok()) << log.status().message();
  for (int i = 0; i < 100; ++i) {
    auto r = Record(i);
    ASSERT_TRUE((*log)->Append(r));
  }
  auto got = (*log)->Get("req-42");  // may still be queued: Get flushes first
  ASSERT_TRUE(got.ok()) << got.status().message();
  EXPECT_EQ(got->ts_ms, 1042);
  EXPECT_EQ(got->input_text, "text 42");
  EXPECT_EQ(got->top_k_json, R"([{"label":"card_arrival","p":0.5}])");
  auto missing = (*log)->Get("nope");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  ASSERT_TRUE((*log)->Flush(std::chrono::seconds(5)));
  EXPECT_EQ((*log)->written(), 100u);
}

TEST(PredictionLogTest, StopCommitsEverythingQueued) {
  testing::TempDir dir;
  MetricsRegistry metrics;
  PredictionLogConfig config;
  config.flush_interval_ms = 10000;  // the writer would sleep long: Stop must still drain
  {
    auto log = PredictionLog::Open(config, dir.File("p.db"), metrics);
    ASSERT_TRUE(log.ok());
    for (int i = 0; i < 5000; ++i) {
      auto r = Record(i);
      ASSERT_TRUE((*log)->Append(r));
    }
    (*log)->Stop();
    EXPECT_FALSE((*log)->running());
  }
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(dir.File("p.db").c_str(), &db), SQLITE_OK);
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "SELECT count(*) FROM predictions", -1, &stmt, nullptr);
  ASSERT_EQ(sqlite3_step(stmt), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(stmt, 0), 5000);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
}

TEST(PredictionLogTest, FullQueueDropsAreCountedNeverBlocking) {
  testing::TempDir dir;
  MetricsRegistry metrics;
  PredictionLogConfig config;
  config.queue_capacity = 2;
  config.max_batch = 1;
  auto log = PredictionLog::Open(config, dir.File("p.db"), metrics);
  ASSERT_TRUE(log.ok());
  // Another connection holds the write lock: the writer blocks, the queue fills.
  sqlite3* blocker = nullptr;
  ASSERT_EQ(sqlite3_open(dir.File("p.db").c_str(), &blocker), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(blocker, "BEGIN EXCLUSIVE", nullptr, nullptr, nullptr), SQLITE_OK);
  int accepted = 0;
  for (int i = 0; i < 10; ++i) {
    auto r = Record(i);
    accepted += (*log)->Append(r) ? 1 : 0;
  }
  EXPECT_LE(accepted, 3);  // 2 queued + at most 1 taken by the blocked writer
  EXPECT_EQ((*log)->dropped(), static_cast<uint64_t>(10 - accepted));
  ASSERT_EQ(sqlite3_exec(blocker, "COMMIT", nullptr, nullptr, nullptr), SQLITE_OK);
  sqlite3_close(blocker);
  ASSERT_TRUE((*log)->Flush(std::chrono::seconds(10)));
  EXPECT_EQ((*log)->written(), static_cast<uint64_t>(accepted));
  std::string text = metrics.Render();
  EXPECT_NE(text.find("closedloop_prediction_log_dropped_total " + std::to_string(10 - accepted)),
            std::string::npos);
}

TEST(MigrationsTest, IdempotentAndVersioned) {
  testing::TempDir dir;
  auto db = SqliteDb::Open(dir.File("m.db"), SqliteDb::Mode::kReadWrite);
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE(ApplyMigrations(**db, PredictionLogMigrations()).ok());
  ASSERT_TRUE(ApplyMigrations(**db, PredictionLogMigrations()).ok());
  auto stmt = (*db)->Prepare("PRAGMA user_version");
  ASSERT_TRUE(stmt.ok());
  ASSERT_TRUE(*stmt->Step());
  EXPECT_EQ(stmt->ColumnInt(0), PredictionLogMigrations().back().version);
  ASSERT_TRUE((*db)->Exec("PRAGMA user_version = 999").ok());
  EXPECT_EQ(ApplyMigrations(**db, PredictionLogMigrations()).code(),
            StatusCode::kFailedPrecondition);
}

}  // namespace
}  // namespace closedloop
