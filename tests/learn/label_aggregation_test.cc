#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "learn/annotator_agreement.h"
#include "learn/label_aggregation.h"

namespace closedloop {
namespace {

// Three annotators with accuracies 0.95 / 0.75 / 0.55 over `items` items of
// `classes` classes; a wrong answer is uniform over the other classes.
AnswerSet Simulated(size_t items, size_t classes, std::vector<int>& truth, uint64_t seed) {
  std::mt19937_64 rng(seed);
  const double acc[3] = {0.95, 0.75, 0.55};
  AnswerSet set{items, 3, classes, {}};
  truth.resize(items);
  for (size_t i = 0; i < items; ++i) {
    truth[i] = static_cast<int>(rng() % classes);
    for (size_t a = 0; a < 3; ++a) {
      int label = truth[i];
      if (std::uniform_real_distribution<double>(0, 1)(rng) >= acc[a]) {
        label = static_cast<int>((truth[i] + 1 + rng() % (classes - 1)) % classes);
      }
      set.answers.push_back({i, a, label});
    }
  }
  std::shuffle(set.answers.begin(), set.answers.end(), rng);
  return set;
}

size_t Correct(const std::vector<AggregatedLabel>& got, const std::vector<int>& truth) {
  size_t n = 0;
  for (size_t i = 0; i < truth.size(); ++i) n += got[i].label == truth[i];
  return n;
}

TEST(LabelAggregationTest, MajorityVoteCountsAndBreaksTiesByFirstAnswer) {
  AnswerSet set{3, 3, 3, {{0, 0, 1}, {0, 1, 1}, {0, 2, 2}, {1, 0, 2}, {1, 1, 0}}};
  auto got = MajorityVote(set);
  EXPECT_EQ(got[0].label, 1);
  EXPECT_NEAR(got[0].confidence, 2.0 / 3, 1e-9);
  EXPECT_EQ(got[1].label, 2);   // tie: the first answer
  EXPECT_EQ(got[2].label, -1);  // no answers
}

TEST(LabelAggregationTest, DawidSkeneRecoversMoreTrueLabelsThanMajorityWithUnequalAnnotators) {
  std::vector<int> truth;
  AnswerSet set = Simulated(2000, 5, truth, 11);
  size_t majority = Correct(MajorityVote(set), truth);
  DawidSkeneResult ds = DawidSkene(set);
  size_t em = Correct(ds.labels, truth);
  EXPECT_GT(em, majority);
  EXPECT_GT(static_cast<double>(em) / 2000, 0.92);
  // The estimated accuracies order the annotators as they are.
  EXPECT_NEAR(ds.annotator_accuracy[0], 0.95, 0.03);
  EXPECT_NEAR(ds.annotator_accuracy[1], 0.75, 0.04);
  EXPECT_NEAR(ds.annotator_accuracy[2], 0.55, 0.04);
  EXPECT_LE(ds.iterations, 100);
}

TEST(LabelAggregationTest, DawidSkeneAgreesWithUnanimousAnswers) {
  AnswerSet set{2, 2, 2, {{0, 0, 1}, {0, 1, 1}, {1, 0, 0}, {1, 1, 0}}};
  auto ds = DawidSkene(set);
  EXPECT_EQ(ds.labels[0].label, 1);
  EXPECT_EQ(ds.labels[1].label, 0);
  EXPECT_GT(ds.labels[0].confidence, 0.9);
}

TEST(AnnotatorAgreementTest, CohenKappaKnownValues) {
  // 10 shared items: a and b agree on 7; a says class 0 six times, b five times.
  // p_o = 0.7, p_e = 0.6*0.5 + 0.4*0.5 = 0.5, kappa = 0.4
  AnswerSet set{10, 2, 2, {}};
  const int a[10] = {0, 0, 0, 0, 0, 0, 1, 1, 1, 1};
  const int b[10] = {0, 0, 0, 0, 1, 1, 1, 1, 1, 0};
  for (size_t i = 0; i < 10; ++i) {
    set.answers.push_back({i, 0, a[i]});
    set.answers.push_back({i, 1, b[i]});
  }
  auto k = CohenKappa(set, 0, 1);
  EXPECT_EQ(k.items, 10u);
  EXPECT_NEAR(k.kappa, 0.4, 1e-9);
  EXPECT_TRUE(std::isnan(CohenKappa(set, 0, 5).kappa));
}

TEST(AnnotatorAgreementTest, FleissKappaOnTheClassicExample) {
  // Fleiss (1971) style table: 4 items, 3 raters, 2 classes.
  //   item 0: 3×A; item 1: 2×A 1×B; item 2: 1×A 2×B; item 3: 3×B
  // P_i = 1, 1/3, 1/3, 1 → P̄ = 2/3; p_A = p_B = 0.5 → P_e = 0.5; κ = 1/3.
  AnswerSet set{4, 3, 2, {}};
  const int table[4][3] = {{0, 0, 0}, {0, 0, 1}, {0, 1, 1}, {1, 1, 1}};
  for (size_t i = 0; i < 4; ++i) {
    for (size_t r = 0; r < 3; ++r) set.answers.push_back({i, r, table[i][r]});
  }
  auto f = FleissKappa(set);
  EXPECT_EQ(f.items, 4u);
  EXPECT_NEAR(f.kappa, 1.0 / 3, 1e-9);
  // With two classes the per-label κ equals the overall one.
  EXPECT_NEAR(f.per_label[0], 1.0 / 3, 1e-9);
  EXPECT_NEAR(f.per_label[1], 1.0 / 3, 1e-9);
}

}  // namespace
}  // namespace closedloop
