// Feedback over time: buckets of predictions, ratings, NPS, clicks and
// escalations from a real predictions.db schema.
#include "feedback/feedback_timeline.h"

#include <gtest/gtest.h>

#include "store/migrations.h"

namespace closedloop {
namespace {

class FeedbackTimelineTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto db = SqliteDb::Open(":memory:", SqliteDb::Mode::kReadWrite);
    ASSERT_TRUE(db.ok()) << db.status().message();
    db_ = std::move(db).value();
    ASSERT_TRUE(ApplyMigrations(*db_, PredictionLogMigrations()).ok());
  }
  void Prediction(const std::string& id, int64_t ts, const std::string& model = "m") {
    ASSERT_TRUE(db_->Exec("INSERT INTO predictions (request_id, ts_ms, model, version, "
                          "input_sha256, input_text, "
                          "label, confidence, top_k, latency_ms) VALUES ('" +
                          id + "'," + std::to_string(ts) + ",'" + model +
                          "','1','sha',NULL,'x',0.9,'[]',1.0)")
                    .ok());
  }
  void Feedback(const std::string& id, const std::string& request, int64_t ts,
                const std::string& rating, const std::string& nps, const std::string& click) {
    ASSERT_TRUE(db_->Exec("INSERT INTO feedback (feedback_id, request_id, ts_ms, rating, nps, "
                          "click) VALUES ('" +
                          id + "','" + request + "'," + std::to_string(ts) + "," + rating + "," +
                          nps + "," + click + ")")
                    .ok());
  }
  std::unique_ptr<SqliteDb> db_;
};

TEST_F(FeedbackTimelineTest, BucketsEverySignalByItsOwnTime) {
  Prediction("a", 1000);
  Prediction("b", 1500);
  Prediction("c", 2500);
  Prediction("z", 1200, "other");
  Feedback("f1", "a", 1100, "5", "10", "1");
  Feedback("f2", "b", 1900, "3", "2", "0");
  Feedback("f3", "c", 2600, "NULL", "NULL", "1");
  Feedback("f4", "z", 1300, "1", "0", "0");  // another model's
  ASSERT_TRUE(db_->Exec("INSERT INTO escalations (request_id, ts_ms, text, intent, confidence, "
                        "reasons) VALUES ('b', 1600, 't', 'i', 0.2, 'low')")
                  .ok());
  auto t = FeedbackTimeline(*db_, "m", 1000, 4000, 1000);
  ASSERT_TRUE(t.ok()) << t.status().message();
  ASSERT_EQ(t->size(), 3u);  // [1000,2000) [2000,3000) [3000,4000)
  const FeedbackBucket& b0 = (*t)[0];
  EXPECT_EQ(b0.start_ms, 1000);
  EXPECT_EQ(b0.predictions, 2);
  EXPECT_EQ(b0.feedback, 2);
  EXPECT_DOUBLE_EQ(*b0.mean_rating, 4.0);
  EXPECT_EQ(b0.nps_answers, 2);
  EXPECT_DOUBLE_EQ(*b0.nps, 0.0);  // one promoter, one detractor
  EXPECT_DOUBLE_EQ(*b0.click_through_rate, 0.5);
  EXPECT_EQ(b0.escalations, 1);
  EXPECT_DOUBLE_EQ(*b0.escalation_rate, 0.5);
  const FeedbackBucket& b1 = (*t)[1];
  EXPECT_EQ(b1.predictions, 1);
  EXPECT_FALSE(b1.mean_rating.has_value());
  EXPECT_FALSE(b1.nps.has_value());
  EXPECT_DOUBLE_EQ(*b1.click_through_rate, 1.0);
  EXPECT_DOUBLE_EQ(*b1.escalation_rate, 0.0);
  const FeedbackBucket& b2 = (*t)[2];  // empty, still listed
  EXPECT_EQ(b2.predictions, 0);
  EXPECT_FALSE(b2.escalation_rate.has_value());
  // Every model: the other model's prediction and feedback count too.
  auto all = FeedbackTimeline(*db_, "", 1000, 4000, 1000);
  ASSERT_TRUE(all.ok());
  EXPECT_EQ((*all)[0].predictions, 3);
  EXPECT_DOUBLE_EQ(*(*all)[0].mean_rating, 3.0);
  const std::string json = FeedbackTimelineJson("m", 1000, 4000, 1000, *t);
  EXPECT_NE(json.find(R"("start_ms":3000,"predictions":0)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("mean_rating":null)"), std::string::npos) << json;
}

TEST_F(FeedbackTimelineTest, RefusesABadRangeNamingTheParameter) {
  auto zero = FeedbackTimeline(*db_, "", 0, 1000, 0);
  ASSERT_FALSE(zero.ok());
  EXPECT_NE(zero.status().message().find("bucket_ms"), std::string::npos);
  auto many = FeedbackTimeline(*db_, "", 0, 1'000'000'000, 1);
  ASSERT_FALSE(many.ok());
  EXPECT_NE(many.status().message().find("bucket_ms"), std::string::npos);
  auto reversed = FeedbackTimeline(*db_, "", 5000, 1000, 100);
  ASSERT_FALSE(reversed.ok());
  EXPECT_NE(reversed.status().message().find("since"), std::string::npos);
}

}  // namespace
}  // namespace closedloop
