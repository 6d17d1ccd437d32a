#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <set>

#include "learn/batch_selection.h"
#include "learn/uncertainty_sampling.h"

namespace closedloop {
namespace {

TEST(UncertaintySamplingTest, ScoresOrderConfidentBelowUnsure) {
  std::vector<float> sure = {0.97f, 0.02f, 0.01f}, unsure = {0.4f, 0.35f, 0.25f};
  EXPECT_NEAR(LeastConfidence(sure), 0.03, 1e-6);
  EXPECT_NEAR(Margin(unsure), 1 - 0.05, 1e-6);
  EXPECT_NEAR(Entropy({0.5f, 0.5f}), std::log(2.0), 1e-6);
  EXPECT_EQ(Entropy({1.0f, 0.0f}), 0);
  for (auto s : {SelectionStrategy::kLeastConfidence, SelectionStrategy::kMargin,
                 SelectionStrategy::kEntropy}) {
    EXPECT_LT(*InformativenessScore(s, sure, {}), *InformativenessScore(s, unsure, {}))
        << SelectionStrategyName(s);
  }
}

TEST(UncertaintySamplingTest, MarginAndEntropyDisagreeOnTwoWayTies) {
  // Two labels tied and the rest empty: margin says maximally unsure, entropy less
  // than for a flat distribution over three.
  std::vector<float> two = {0.5f, 0.5f, 0.0f}, flat = {0.34f, 0.33f, 0.33f};
  EXPECT_GT(Margin(two), Margin(flat));
  EXPECT_LT(Entropy(two), Entropy(flat));
}

TEST(UncertaintySamplingTest, CommitteeDisagreementIsZeroOnlyWhenMembersAgree) {
  std::vector<std::vector<float>> agree = {{0.6f, 0.4f}, {0.6f, 0.4f}, {0.6f, 0.4f}};
  EXPECT_NEAR(Disagreement(agree).score(), 0, 1e-9);
  std::vector<std::vector<float>> split = {{0.9f, 0.1f}, {0.1f, 0.9f}};
  auto d = Disagreement(split);
  EXPECT_NEAR(d.vote_entropy, std::log(2.0), 1e-9);
  // KL(0.9,0.1 || 0.5,0.5) = 0.9 ln 1.8 + 0.1 ln 0.2
  EXPECT_NEAR(d.mean_kl, 0.9 * std::log(1.8) + 0.1 * std::log(0.2), 1e-6);
  EXPECT_FALSE(InformativenessScore(SelectionStrategy::kQbc, {0.5f, 0.5f}, {{0.5f, 0.5f}}).ok());
}

TEST(UncertaintySamplingTest, ParsesStrategiesAndNamesTheFieldOnError) {
  EXPECT_EQ(*ParseSelectionStrategy("qbc", "strategy"), SelectionStrategy::kQbc);
  auto bad = ParseSelectionStrategy("bald", "labeling.strategy");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("labeling.strategy"), std::string::npos);
}

TEST(BatchSelectionTest, TopScoresWithoutDiversityAndARandomShareWithItsPropensity) {
  std::vector<SelectionCandidate> pool;
  for (int i = 0; i < 100; ++i) pool.push_back({i / 100.0, {}});
  SelectionOptions o;
  o.batch = 10;
  o.random_share = 0.2;
  o.diversity = false;
  std::mt19937_64 rng(7);
  auto picked = SelectBatch(pool, o, rng);
  ASSERT_EQ(picked.size(), 10u);
  std::set<size_t> unique;
  int random = 0;
  for (const auto& p : picked) {
    unique.insert(p.index);
    if (p.strategy == "random") {
      ++random;
      EXPECT_DOUBLE_EQ(p.propensity, 2.0 / 100.0);
    } else {
      EXPECT_EQ(p.strategy, "margin");
      EXPECT_DOUBLE_EQ(p.propensity, 1.0);
      EXPECT_GE(p.index, 88u);  // among the top 10 + the 2 random ones' places
    }
  }
  EXPECT_EQ(random, 2);
  EXPECT_EQ(unique.size(), 10u);
}

TEST(BatchSelectionTest, DiversityPicksOneOfEachClusterInsteadOfNearDuplicates) {
  // 3 clusters of 10 near-identical points; cluster A has the highest scores.
  std::vector<SelectionCandidate> pool;
  const std::vector<std::vector<float>> centers = {{1, 0, 0}, {0, 1, 0}, {0, 0, 1}};
  for (int c = 0; c < 3; ++c) {
    for (int i = 0; i < 10; ++i) {
      std::vector<float> e = centers[static_cast<size_t>(c)];
      e[0] += 0.01f * static_cast<float>(i);
      pool.push_back({1.0 - 0.1 * c - 0.001 * i, e});
    }
  }
  SelectionOptions o;
  o.batch = 3;
  o.random_share = 0;
  o.diversity_pool = 10;
  std::mt19937_64 rng(1);
  auto diverse = SelectBatch(pool, o, rng);
  ASSERT_EQ(diverse.size(), 3u);
  std::set<size_t> clusters;
  for (const auto& p : diverse) {
    clusters.insert(p.index / 10);
    EXPECT_EQ(p.strategy, "margin+diversity");
  }
  EXPECT_EQ(clusters.size(), 3u);
  EXPECT_EQ(diverse[0].index, 0u);  // the best score always goes in
  o.diversity = false;
  auto top = SelectBatch(pool, o, rng);
  for (const auto& p : top) EXPECT_EQ(p.index / 10, 0u);
}

TEST(BatchSelectionTest, RandomStrategyAndSmallPools) {
  std::vector<SelectionCandidate> pool(5);
  SelectionOptions o;
  o.strategy = SelectionStrategy::kRandom;
  o.batch = 20;
  std::mt19937_64 rng(3);
  auto picked = SelectBatch(pool, o, rng);
  ASSERT_EQ(picked.size(), 5u);
  for (const auto& p : picked) {
    EXPECT_EQ(p.strategy, "random");
    EXPECT_DOUBLE_EQ(p.propensity, 1.0);
  }
  EXPECT_TRUE(SelectBatch({}, o, rng).empty());
}

}  // namespace
}  // namespace closedloop
