#include "learn/evaluation.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/json_writer.h"

namespace closedloop {
namespace {

// Six rows, three classes, computed by hand:
//   truth  a a a b b c ; predicted a a b b c c
TEST(EvaluationTest, ConfusionPerClassAndAverages) {
  std::vector<std::string> labels = {"a", "b", "c"};
  std::vector<std::vector<float>> p = {{.8f, .1f, .1f}, {.6f, .3f, .1f}, {.3f, .6f, .1f},
                                       {.1f, .7f, .2f}, {.2f, .3f, .5f}, {.1f, .1f, .8f}};
  std::vector<int> truth = {0, 0, 0, 1, 1, 2};
  auto r = Evaluate(labels, p, truth);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_DOUBLE_EQ(r->accuracy, 4.0 / 6);
  EXPECT_EQ(r->confusion[0], (std::vector<size_t>{2, 1, 0}));
  EXPECT_EQ(r->confusion[1], (std::vector<size_t>{0, 1, 1}));
  EXPECT_EQ(r->confusion[2], (std::vector<size_t>{0, 0, 1}));
  // a: P 2/2, R 2/3; b: P 1/2, R 1/2; c: P 1/2, R 1/1.
  EXPECT_DOUBLE_EQ(r->per_class[0].precision, 1.0);
  EXPECT_DOUBLE_EQ(r->per_class[0].recall, 2.0 / 3);
  EXPECT_DOUBLE_EQ(r->per_class[0].f1, 0.8);
  EXPECT_DOUBLE_EQ(r->per_class[1].f1, 0.5);
  EXPECT_DOUBLE_EQ(r->per_class[2].f1, 2.0 / 3);
  EXPECT_EQ(r->per_class[0].support, 3u);
  EXPECT_NEAR(r->macro_f1, (0.8 + 0.5 + 2.0 / 3) / 3, 1e-12);
  EXPECT_NEAR(r->weighted_f1, (0.8 * 3 + 0.5 * 2 + 2.0 / 3) / 6, 1e-12);
  double ll =
      -(std::log(.8) + std::log(.6) + std::log(.3) + std::log(.7) + std::log(.3) + std::log(.8)) /
      6;
  EXPECT_NEAR(r->log_loss, ll, 1e-6);
  // One-vs-rest AUCs: a 1.0; b: positives {.6,.7,} vs negatives {.1,.3,.3,.1}... computed:
  // b scores: rows .1 .3 .6 .7 .3 .1, positives rows 3,4 (.7,.3): pairs vs 4 negatives
  // (.1,.3,.6,.1): .7 beats 4; .3 beats 2, ties 1 -> (4 + 2.5) / 8.
  // c scores .1 .1 .1 .2 .5 .8, positive .8 beats all 5 -> 1.
  EXPECT_NEAR(*r->roc_auc, (1.0 + 6.5 / 8 + 1.0) / 3, 1e-12);
  // Reliability bins: confidences .8 .6 .6 .7 .5 .8 -> bins 12, 9, 9, 10, 7, 12 of 15.
  EXPECT_EQ(r->reliability.size(), 15u);
  EXPECT_EQ(r->reliability[12].count, 2u);
  EXPECT_NEAR(r->reliability[12].mean_confidence, 0.8, 1e-6);
  EXPECT_DOUBLE_EQ(r->reliability[12].accuracy, 1.0);
  EXPECT_EQ(r->reliability[9].count, 2u);
  EXPECT_DOUBLE_EQ(r->reliability[9].accuracy, 0.5);
  double ece =
      (2 * std::fabs(1 - .8) + 2 * std::fabs(.5 - .6) + std::fabs(1 - .7) + std::fabs(0 - .5)) / 6;
  EXPECT_NEAR(r->ece, ece, 1e-6);
}

TEST(EvaluationTest, BinaryAucWithTies) {
  std::vector<std::vector<float>> p = {{.9f, .1f}, {.6f, .4f}, {.6f, .4f}, {.2f, .8f}};
  std::vector<int> truth = {0, 1, 0, 1};
  auto r = Evaluate({"neg", "pos"}, p, truth);
  ASSERT_TRUE(r.ok());
  // positives .4 .8 vs negatives .1 .4: .8 beats both, .4 beats .1 and ties .4 -> 3.5/4.
  EXPECT_DOUBLE_EQ(*r->roc_auc, 3.5 / 4);
  std::string json = RenderEvaluationJson(*r);
  EXPECT_NE(json.find(R"("confusion_matrix":[[2,0],[1,1]])"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("roc_auc":0.875)"), std::string::npos) << json;
}

TEST(EvaluationTest, EmptyAndMismatchedInputsAreErrors) {
  EXPECT_FALSE(Evaluate({"a"}, {}, {}).ok());
  EXPECT_FALSE(Evaluate({"a", "b"}, {{1.f}}, {0}).ok());
  EXPECT_FALSE(Evaluate({"a", "b"}, {{.5f, .5f}}, {2}).ok());
  auto one_class = Evaluate({"a", "b"}, {{.9f, .1f}}, {0});
  ASSERT_TRUE(one_class.ok());
  EXPECT_FALSE(one_class->roc_auc.has_value());  // no negatives: undefined, not a number
}

}  // namespace
}  // namespace closedloop
