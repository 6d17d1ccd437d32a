#include "learn/feedback_dataset.h"

#include <gtest/gtest.h>

#include "store/migrations.h"
#include "support/temp_dir.h"

namespace closedloop {
namespace {

class FeedbackDatasetTest : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ =
        std::move(SqliteDb::Open(dir_.File("predictions.db"), SqliteDb::Mode::kReadWrite)).value();
    ASSERT_TRUE(ApplyMigrations(*db_, PredictionLogMigrations()).ok());
  }
  void Prediction(const std::string& id, const char* text, const std::string& label,
                  const char* action, double propensity, const std::string& model = "m") {
    auto q = db_->Prepare(
                    "INSERT INTO predictions (request_id, ts_ms, model, version, input_sha256, "
                    "input_text, label, confidence, top_k, latency_ms, action, propensity) VALUES "
                    "(?, 1, ?, '1', 'x', ?, ?, 0.9, '[]', 1, ?, ?)")
                 .value();
    q.BindText(1, id);
    q.BindText(2, model);
    text ? q.BindText(3, text) : q.BindNull(3);
    q.BindText(4, label);
    action ? q.BindText(5, action) : q.BindNull(5);
    q.BindDouble(6, propensity);
    ASSERT_TRUE(q.Step().ok());
  }
  void Feedback(const std::string& id, const std::string& request, int64_t ts, const char* label,
                std::optional<double> explicit_score) {
    auto q = db_->Prepare(
                    "INSERT INTO feedback (feedback_id, request_id, ts_ms, label, "
                    "explicit_score) VALUES (?, ?, ?, ?, ?)")
                 .value();
    q.BindText(1, id);
    q.BindText(2, request);
    q.BindInt(3, ts);
    label ? q.BindText(4, label) : q.BindNull(4);
    explicit_score ? q.BindDouble(5, *explicit_score) : q.BindNull(5);
    ASSERT_TRUE(q.Step().ok());
  }
  testing::TempDir dir_;
  std::unique_ptr<SqliteDb> db_;
};

TEST_F(FeedbackDatasetTest, HumanLabelsWeakPositivesAndWhatIsNeverAPositive) {
  Prediction("r1", "reset my pin", "exchange_rate", "escalate", 1);
  Feedback("f1", "r1", 10, "exchange_rate", std::nullopt);
  Feedback("f2", "r1", 20, "change_pin", std::nullopt);  // the later label wins
  // Escalated inquiry without stored input: its text comes from the escalation.
  Prediction("r2", nullptr, "top_up", "escalate", 1);
  ASSERT_TRUE(db_->Exec("INSERT INTO escalations (request_id, ts_ms, text, intent, confidence, "
                        "reasons) VALUES ('r2', 1, 'top up failed', 'top_up', 0.4, 'x')")
                  .ok());
  Feedback("f3", "r2", 30, "top_up", std::nullopt);
  // An explored reply (propensity 0.1) rated well: weight = score / propensity, capped.
  Prediction("r3", "card not here", "card_arrival", "card_delivery_estimate", 0.1);
  Feedback("f4", "r3", 40, nullptr, 0.9);
  // The greedy reply rated well twice: weight = mean score / 0.8.
  Prediction("r4", "my card is late", "card_arrival", "card_arrival", 0.8);
  Feedback("f5", "r4", 50, nullptr, 1.0);
  Feedback("f6", "r4", 51, nullptr, 0.8);
  // One low score is enough to never be a positive.
  Prediction("r5", "exchange rate", "exchange_rate", "exchange_rate", 1);
  Feedback("f7", "r5", 60, nullptr, 1.0);
  Feedback("f8", "r5", 61, nullptr, 0.2);
  // Another model's feedback is not this model's data.
  Prediction("r6", "other", "x", nullptr, 1, "other-model");
  Feedback("f9", "r6", 70, "y", std::nullopt);

  RetrainConfig config;
  auto d = BuildFeedbackDataset(*db_, "m", config);
  ASSERT_TRUE(d.ok()) << d.status().message();
  EXPECT_EQ(d->human_labels, 2u);
  EXPECT_EQ(d->weak_positives, 2u);
  EXPECT_EQ(d->low_scored, 1u);
  EXPECT_EQ(d->newest_label_ms, 30);
  std::map<std::string, FeedbackExample> by_id;
  for (const auto& e : d->train) by_id[e.request_id] = e;
  for (const auto& e : d->evaluation) by_id[e.request_id] = e;
  ASSERT_EQ(by_id.size(), 4u);
  EXPECT_EQ(by_id["r1"].label, "change_pin");
  EXPECT_EQ(by_id["r1"].feedback_id, "f2");
  EXPECT_EQ(by_id["r1"].weight, 2.0);
  EXPECT_EQ(by_id["r2"].text, "top up failed");
  EXPECT_EQ(by_id["r3"].label, "card_delivery_estimate");  // what was served, not the top label
  EXPECT_NEAR(by_id["r3"].weight, 0.9 * 10, 1e-12);        // 1/0.1 = 10 = the cap
  EXPECT_NEAR(by_id["r4"].weight, 0.9 / 0.8, 1e-12);
  EXPECT_EQ(by_id["r4"].source, "weak_positive");
  EXPECT_EQ(by_id.count("r5"), 0u);
  config.max_inverse_propensity = 2;
  d = BuildFeedbackDataset(*db_, "m", config);
  for (const auto& e : d->train) {
    if (e.request_id == "r3") {
      EXPECT_NEAR(e.weight, 1.8, 1e-12);
    }
  }
  auto count = CountHumanLabelsSince(*db_, "m", 15);
  ASSERT_TRUE(count.ok());
  EXPECT_EQ(*count, 2);  // f2 and f3
}

}  // namespace
}  // namespace closedloop
