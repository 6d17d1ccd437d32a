#include "tracking/tracking_store.h"

#include <gtest/gtest.h>

#include <cmath>

#include "support/temp_dir.h"
#include "tracking/run_filter.h"

namespace closedloop {
namespace {

class TrackingStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_ =
        std::move(TrackingStore::Open(dir_.File("t.db"), dir_.File("artifacts"), clock_).value());
  }
  std::string NewRun(const std::string& name = "r") {
    return store_->CreateRun("0", name, "me", std::nullopt, {}).value().run_id;
  }
  testing::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<TrackingStore> store_;
};

TEST_F(TrackingStoreTest, ExperimentsDefaultDuplicateAndSearch) {
  auto def = store_->GetExperiment("0");
  ASSERT_TRUE(def.ok());
  EXPECT_EQ(def->name, "Default");
  auto id = store_->CreateExperiment("support", "", {{"team", "cx"}});
  ASSERT_TRUE(id.ok());
  EXPECT_EQ(*id, "1");
  EXPECT_EQ(store_->CreateExperiment("support", "", {}).status().code(),
            StatusCode::kAlreadyExists);
  EXPECT_EQ(store_->CreateExperiment("", "", {}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_->GetExperimentByName("support")->tags, (KeyValues{{"team", "cx"}}));
  EXPECT_EQ(store_->GetExperiment("7").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_->SearchExperiments("", 100)->size(), 2u);
  EXPECT_EQ(store_->SearchExperiments("name = 'support'", 100)->size(), 1u);
  EXPECT_EQ(store_->SearchExperiments("name LIKE 'sup%'", 100)->size(), 1u);
  EXPECT_FALSE(store_->SearchExperiments("colour = 'red'", 100).ok());
}

TEST_F(TrackingStoreTest, ParamsImmutableMetricsAppendTagsOverwrite) {
  std::string run = NewRun();
  ASSERT_TRUE(store_->LogBatch(run, {}, {{"lr", "0.5"}}, {{"stage", "a"}}).ok());
  EXPECT_TRUE(store_->LogBatch(run, {}, {{"lr", "0.5"}}, {}).ok());  // same value: fine
  auto changed = store_->LogBatch(run, {}, {{"lr", "0.7"}}, {});
  ASSERT_FALSE(changed.ok());
  EXPECT_NE(changed.message().find("params cannot change"), std::string::npos);
  ASSERT_TRUE(store_->LogBatch(run, {}, {}, {{"stage", "b"}}).ok());
  ASSERT_TRUE(store_
                  ->LogBatch(run,
                             {{"acc", 0.7, 10, 0},
                              {"acc", 0.9, 5, 2},
                              {"acc", 0.8, 20, 1},
                              {"loss", std::nan(""), 1, 0}},
                             {}, {})
                  .ok());
  auto r = store_->GetRun(run);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->params, (KeyValues{{"lr", "0.5"}}));
  EXPECT_EQ(r->tags, (KeyValues{{"stage", "b"}}));
  ASSERT_EQ(r->metrics.size(), 2u);
  EXPECT_EQ(r->metrics[0].key, "acc");
  EXPECT_DOUBLE_EQ(r->metrics[0].value, 0.9);  // highest step wins
  EXPECT_TRUE(std::isnan(r->metrics[1].value));
  auto history = store_->MetricHistory(run, "acc");
  ASSERT_TRUE(history.ok());
  ASSERT_EQ(history->size(), 3u);
  EXPECT_EQ((*history)[0].step, 0);
  EXPECT_EQ((*history)[2].step, 2);
}

TEST_F(TrackingStoreTest, LogBatchIsAllOrNothing) {
  std::string run = NewRun();
  ASSERT_TRUE(store_->LogBatch(run, {}, {{"seed", "1"}}, {}).ok());
  // A batch with a metric, a new param and a conflicting one: nothing may be kept.
  EXPECT_FALSE(store_->LogBatch(run, {{"acc", 0.5, 1, 0}}, {{"new", "x"}, {"seed", "2"}}, {}).ok());
  auto r = store_->GetRun(run);
  EXPECT_TRUE(r->metrics.empty());
  EXPECT_EQ(r->params, (KeyValues{{"seed", "1"}}));
  EXPECT_EQ(store_->LogBatch("nope", {}, {}, {}).code(), StatusCode::kNotFound);
}

TEST_F(TrackingStoreTest, RunLifecycleAndSearch) {
  std::string a = NewRun("alpha"), b = NewRun("beta"), c = NewRun("gamma");
  ASSERT_TRUE(store_->LogBatch(a, {{"acc", 0.80, 1, 0}}, {{"model", "ft"}}, {}).ok());
  ASSERT_TRUE(store_->LogBatch(b, {{"acc", 0.90, 1, 0}}, {{"model", "xgb"}}, {}).ok());
  ASSERT_TRUE(store_->LogBatch(c, {{"acc", 0.85, 1, 0}}, {{"model", "ft"}}, {}).ok());
  ASSERT_TRUE(store_->UpdateRun(a, std::string("FINISHED"), 99, std::nullopt).ok());
  EXPECT_EQ(store_->UpdateRun(a, std::string("DONE"), std::nullopt, std::nullopt).status().code(),
            StatusCode::kInvalidArgument);
  auto best = store_->SearchRuns({"0"}, "params.model = 'ft' and metrics.acc >= 0.8",
                                 {"metrics.acc DESC"}, 10);
  ASSERT_TRUE(best.ok()) << best.status().message();
  ASSERT_EQ(best->size(), 2u);
  EXPECT_EQ((*best)[0].info.run_name, "gamma");
  auto finished = store_->SearchRuns({"0"}, "attributes.status = 'FINISHED'", {}, 10);
  ASSERT_EQ(finished->size(), 1u);
  EXPECT_EQ(*finished->front().info.end_time, 99);
  ASSERT_TRUE(store_->DeleteRun(b).ok());
  EXPECT_EQ(store_->SearchRuns({"0"}, "", {}, 10)->size(), 2u);  // deleted runs are hidden
  EXPECT_FALSE(store_->LogBatch(b, {}, {{"k", "v"}}, {}).ok());  // and read-only
  EXPECT_EQ(store_->SearchRuns({"0"}, "", {"metrics.acc"}, 1)->size(), 1u);
  EXPECT_EQ(store_->CreateRun("42", "", "", std::nullopt, {}).status().code(),
            StatusCode::kNotFound);
}

TEST(RunFilterTest, GrammarAndErrors) {
  auto ok =
      ParseRunFilter("metrics.`val loss` < 0.5 AND tags.env != 'prod' and params.lr LIKE '0.%'");
  ASSERT_TRUE(ok.ok()) << ok.status().message();
  ASSERT_EQ(ok->size(), 3u);
  EXPECT_EQ((*ok)[0].key, "val loss");
  EXPECT_EQ((*ok)[2].op, "LIKE");
  EXPECT_FALSE(ParseRunFilter("metrics.acc > 'high'").ok());
  EXPECT_FALSE(ParseRunFilter("colour.x = 'y'").ok());
  EXPECT_FALSE(ParseRunFilter("metrics.acc > 1 OR metrics.acc < 0").ok());
  EXPECT_FALSE(ParseRunFilter("params.x = 'unterminated").ok());
  EXPECT_TRUE(LikeMatch("support-intent", "sup%ent", false));
  EXPECT_TRUE(LikeMatch("ABC", "a_c", true));
  EXPECT_FALSE(LikeMatch("ABC", "a_c", false));
}

}  // namespace
}  // namespace closedloop
