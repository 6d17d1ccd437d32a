#include "store/prediction_log.h"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <condition_variable>
#include <mutex>

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

// Feedback shares the group commit: its callback runs after the commit, with
// NotFound for an unknown prediction and the first record for a repeated key.
TEST(PredictionLogTest, FeedbackIsAnsweredAfterItsCommit) {
  testing::TempDir dir;
  MetricsRegistry metrics;
  auto log =
      std::move(PredictionLog::Open(PredictionLogConfig{}, dir.File("p.db"), metrics).value());
  auto r = Record(1);
  ASSERT_TRUE(log->Append(r));
  std::mutex mu;
  std::condition_variable cv;
  std::vector<FeedbackOutcome> outcomes;
  auto send = [&](const std::string& id, const std::string& request_id,
                  std::optional<std::string> key) {
    FeedbackRecord f;
    f.feedback_id = id;
    f.request_id = request_id;
    f.ts_ms = 5;
    f.rating = 4;
    f.idempotency_key = std::move(key);
    f.explicit_score = 0.375;
    ASSERT_TRUE(log->AppendFeedback(f, [&](FeedbackOutcome o) {
      // Durable by now: a separate connection sees the row (or the first one).
      sqlite3* db = nullptr;
      sqlite3_open_v2(dir.File("p.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr);
      sqlite3_stmt* st = nullptr;
      sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM feedback WHERE feedback_id = ?", -1, &st,
                         nullptr);
      sqlite3_bind_text(st, 1, o.stored.feedback_id.c_str(), -1, SQLITE_TRANSIENT);
      sqlite3_step(st);
      bool visible = sqlite3_column_int(st, 0) == 1;
      sqlite3_finalize(st);
      sqlite3_close(db);
      std::lock_guard lock(mu);
      if (o.status.ok()) {
        EXPECT_TRUE(visible) << o.stored.feedback_id;
      }
      outcomes.push_back(std::move(o));
      cv.notify_all();
    }));
  };
  send("f1", "req-1", "key-1");
  send("f2", "req-1", "key-1");
  send("f3", "no-such-request", std::nullopt);
  std::unique_lock lock(mu);
  ASSERT_TRUE(cv.wait_for(lock, std::chrono::seconds(10), [&] { return outcomes.size() == 3; }));
  EXPECT_TRUE(outcomes[0].status.ok());
  EXPECT_FALSE(outcomes[0].duplicate);
  EXPECT_TRUE(outcomes[1].status.ok());
  EXPECT_TRUE(outcomes[1].duplicate);
  EXPECT_EQ(outcomes[1].stored.feedback_id, "f1");  // the first result
  EXPECT_EQ(outcomes[2].status.code(), StatusCode::kNotFound);
  lock.unlock();
  auto stored = log->GetFeedback("f1");
  ASSERT_TRUE(stored.ok()) << stored.status().message();
  EXPECT_EQ(*stored->rating, 4);
  EXPECT_DOUBLE_EQ(*stored->explicit_score, 0.375);
  EXPECT_FALSE(stored->implicit_score.has_value());
  EXPECT_EQ(log->GetFeedback("f2").status().code(), StatusCode::kNotFound);
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
