#include "learn/feedback_dataset.h"

#include <gtest/gtest.h>

#include "store/annotation_store.h"
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

namespace closedloop {
namespace {

// Labeling tasks people finished become examples with provenance and weights;
// a prediction with a feedback label keeps that label; "none" is no example.
TEST_F(FeedbackDatasetTest, FinishedLabelingTasksAreExamplesWeightedByTheirConfidence) {
  Prediction("r1", "card never came", "top_up", nullptr, 1);
  Prediction("r2", "reset my pin", "top_up", nullptr, 1);
  Prediction("r3", "what is this", "top_up", nullptr, 1);
  Feedback("f1", "r2", 5, "change_pin", std::nullopt);
  auto task = [&](const std::string& id, const std::string& request) {
    LabelingTask t;
    t.task_id = id;
    t.model = "m";
    t.request_id = request;
    t.text = request == "r1"   ? "card never came"
             : request == "r2" ? "reset my pin"
                               : "what is this";
    t.strategy = "margin+diversity";
    t.propensity = 1;
    t.overlap = 2;
    ASSERT_TRUE(InsertTask(*db_, t).ok());
  };
  task("t1", "r1");
  task("t2", "r2");
  task("t3", "r3");
  int n = 0;
  auto answer = [&](const std::string& t, const std::string& who, const std::string& kind,
                    std::optional<std::string> label) {
    Annotation a{"a" + std::to_string(++n), t, who, kind, label, 100 + n, std::nullopt, "labeling"};
    ASSERT_TRUE(AddAnnotation(*db_, a, 3, 100 + n).ok());
  };
  answer("t1", "alice", "label", "card_arrival");
  answer("t1", "bob", "label", "card_arrival");
  answer("t2", "alice", "label", "change_pin");
  answer("t2", "bob", "label", "change_pin");
  answer("t3", "alice", "none", std::nullopt);
  answer("t3", "bob", "none", std::nullopt);
  RetrainConfig config;
  for (const char* method : {"majority", "dawid_skene"}) {
    config.label_aggregation = method;
    auto d = BuildFeedbackDataset(*db_, "m", config);
    ASSERT_TRUE(d.ok()) << d.status().message();
    EXPECT_EQ(d->annotations, 1u) << method;  // t1; t2 has feedback; t3 is "none"
    EXPECT_EQ(d->human_labels, 2u);
    std::vector<FeedbackExample> all = d->train;
    all.insert(all.end(), d->evaluation.begin(), d->evaluation.end());
    bool found = false;
    for (const auto& e : all) {
      if (e.source != "annotation") continue;
      found = true;
      EXPECT_EQ(e.label, "card_arrival");
      EXPECT_EQ(e.request_id, "r1");
      EXPECT_EQ(e.feedback_id, "t1");
      EXPECT_EQ(e.strategy, "margin+diversity");
      EXPECT_EQ(e.annotators, 2);
      EXPECT_GT(e.weight, 0);
      EXPECT_LE(e.weight, config.human_label_weight);
    }
    EXPECT_TRUE(found) << method;
  }
  auto since = CountHumanLabelsSince(*db_, "m", 0);
  ASSERT_TRUE(since.ok());
  EXPECT_EQ(*since, 1 + 3);  // one feedback label, three finished tasks
}

}  // namespace
}  // namespace closedloop
