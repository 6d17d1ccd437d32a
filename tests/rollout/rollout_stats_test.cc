#include "rollout/rollout_stats.h"

#include <gtest/gtest.h>

#include <cmath>

#include "rollout/latency_histogram.h"

namespace closedloop {
namespace {

TEST(RolloutStatsTest, NormalQuantilesAreTheTextbookValues) {
  EXPECT_NEAR(NormalQuantile(0.975), 1.959963984540054, 1e-9);
  EXPECT_NEAR(NormalQuantile(0.8), 0.8416212335729143, 1e-9);
  EXPECT_NEAR(NormalCdf(1.959963984540054), 0.975, 1e-12);
  EXPECT_NEAR(NormalQuantile(0.5), 0.0, 1e-12);
}

TEST(RolloutStatsTest, StudentTMatchesClosedFormsAndTables) {
  // df = 1 is Cauchy: F(t) = 1/2 + atan(t)/π; df = 2: F(t) = 1/2 + t / (2 sqrt(2 + t²)).
  for (double t : {-3.0, -0.5, 0.0, 1.0, 4.0}) {
    EXPECT_NEAR(StudentTCdf(t, 1), 0.5 + std::atan(t) / M_PI, 1e-10) << t;
    EXPECT_NEAR(StudentTCdf(t, 2), 0.5 + t / (2 * std::sqrt(2 + t * t)), 1e-10) << t;
  }
  // Two-sided 5% critical values of t tables.
  EXPECT_NEAR(StudentTCdf(2.228138851986, 10), 0.975, 1e-9);
  EXPECT_NEAR(StudentTCdf(2.042272456301, 30), 0.975, 1e-9);
  // Large df tends to the normal.
  EXPECT_NEAR(StudentTCdf(1.959963984540054, 1e7), 0.975, 1e-6);
}

TEST(RolloutStatsTest, SampleSizeIsTheTwoArmFormula) {
  // 2 (1.95996 + 0.84162)² · 1² / 0.5² = 62.79 → 63.
  EXPECT_EQ(RequiredSampleSize(1.0, 0.5, 0.05, 0.8), 63);
  // σ = 0.3, δ = 0.1: 2 · 7.8489 · 0.09 / 0.01 = 141.3 → 142.
  EXPECT_EQ(RequiredSampleSize(0.3, 0.1, 0.05, 0.8), 142);
  EXPECT_EQ(RequiredSampleSize(0.0, 0.1, 0.05, 0.8), 1);
}

TEST(RolloutStatsTest, FailureRateTestIsThePooledTwoProportionZ) {
  // 10/1000 vs 25/1000: pooled p = 0.0175, se = sqrt(p(1-p) · 2/1000) = 0.0058641.
  TestResult r = FailureRateTest(10, 1000, 25, 1000);
  EXPECT_NEAR(r.statistic, 0.015 / std::sqrt(0.0175 * 0.9825 * 0.002), 1e-9);
  EXPECT_NEAR(r.p_value, 1 - NormalCdf(r.statistic), 1e-12);
  EXPECT_LT(r.p_value, 0.01);
  // A better challenger is never "worse".
  EXPECT_GT(FailureRateTest(25, 1000, 10, 1000).p_value, 0.99);
  EXPECT_EQ(FailureRateTest(0, 500, 0, 500).p_value, 0.5);
}

TEST(RolloutStatsTest, WelchTestUsesWelchSatterthwaiteDegreesOfFreedom) {
  TestResult r = MeanScoreTest(0.8, 0.04, 50, 0.7, 0.09, 40);
  double a = 0.04 / 50, b = 0.09 / 40;
  EXPECT_NEAR(r.statistic, -0.1 / std::sqrt(a + b), 1e-12);
  EXPECT_NEAR(r.df, (a + b) * (a + b) / (a * a / 49 + b * b / 39), 1e-9);
  EXPECT_NEAR(r.p_value, StudentTCdf(r.statistic, r.df), 1e-15);
  EXPECT_GT(r.p_value, 0.03);
  EXPECT_LT(r.p_value, 0.045);
  EXPECT_GT(MeanScoreTest(0.7, 0.09, 40, 0.8, 0.04, 50).p_value, 0.95);
}

TEST(RolloutStatsTest, TailLatencyTestComparesTheShareAboveTheChampionP99WithOnePercent) {
  EXPECT_GT(TailLatencyTest(10, 1000).p_value, 0.4);  // exactly 1%
  EXPECT_LT(TailLatencyTest(40, 1000).p_value, 1e-6);
}

TEST(RolloutStatsTest, MeanVarIsWelford) {
  MeanVar m;
  for (double x : {1.0, 2.0, 3.0, 4.0}) m.Add(x);
  EXPECT_DOUBLE_EQ(m.mean, 2.5);
  EXPECT_NEAR(m.variance(), 5.0 / 3.0, 1e-12);
}

TEST(LatencyHistogramTest, QuantilesAreWithinTenPercent) {
  LatencyHistogram h;
  for (int i = 1; i <= 1000; ++i) h.Record(i * 0.01);  // 0.01 .. 10 ms
  EXPECT_EQ(h.Count(), 1000);
  double p99 = h.Quantile(0.99);
  EXPECT_GE(p99, 9.9);
  EXPECT_LE(p99, 9.9 * 1.1);
  double p50 = h.Quantile(0.5);
  EXPECT_GE(p50, 5.0);
  EXPECT_LE(p50, 5.0 * 1.1);
  EXPECT_LE(h.CountAbove(p99), 10);  // at most 1% lie above the p99's bucket
  EXPECT_EQ(h.CountAbove(100.0), 0);
  EXPECT_EQ(h.CountAbove(0.0), 1000);
  EXPECT_EQ(LatencyHistogram().Quantile(0.99), 0.0);
  EXPECT_EQ(LatencyHistogram::BucketOf(std::nan("")), 0);
  EXPECT_EQ(LatencyHistogram::BucketOf(1e12), LatencyHistogram::kBuckets - 1);
}

}  // namespace
}  // namespace closedloop
