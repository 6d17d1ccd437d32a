// The console's reference-vs-window histograms of drift signals.
#include "monitor/drift_histogram.h"

#include <gtest/gtest.h>

#include <numeric>

namespace closedloop {
namespace {

double Sum(const std::vector<double>& v) { return std::accumulate(v.begin(), v.end(), 0.0); }

TEST(DriftHistogramTest, NumbersShareEqualWidthBinsOverBothSamples) {
  DriftHistogram h = NumericHistogram({0, 1, 2, 3}, {3, 4, 4, 4}, 4);
  ASSERT_EQ(h.edges.size(), 5u);
  EXPECT_DOUBLE_EQ(h.edges.front(), 0);
  EXPECT_DOUBLE_EQ(h.edges.back(), 4);
  EXPECT_TRUE(h.categories.empty());
  // Bins [0,1) [1,2) [2,3) [3,4]; the maximum falls in the last one.
  EXPECT_EQ(h.reference, (std::vector<double>{0.25, 0.25, 0.25, 0.25}));
  EXPECT_EQ(h.current, (std::vector<double>{0, 0, 0, 1}));
}

TEST(DriftHistogramTest, EdgeCasesStayFinite) {
  EXPECT_TRUE(NumericHistogram({}, {}).edges.empty());
  DriftHistogram same = NumericHistogram({2, 2}, {2});
  ASSERT_EQ(same.reference.size(), 1u);
  EXPECT_DOUBLE_EQ(same.reference[0], 1);
  EXPECT_DOUBLE_EQ(same.current[0], 1);
  DriftHistogram one_side = NumericHistogram({1, 2, 3}, {}, 3);
  EXPECT_DOUBLE_EQ(Sum(one_side.reference), 1);
  EXPECT_DOUBLE_EQ(Sum(one_side.current), 0);
}

TEST(DriftHistogramTest, CategoriesKeepTheLargestAndSumTheRest) {
  std::map<std::string, double> ref = {{"a", 50}, {"b", 30}, {"c", 10}, {"d", 10}};
  std::map<std::string, double> cur = {{"a", 10}, {"b", 10}, {"e", 80}};
  DriftHistogram h = CategoricalHistogram(ref, cur, 3);
  // By the mean share of the two sides: e (0.4), a (0.3), then b, c, d.
  ASSERT_EQ(h.categories, (std::vector<std::string>{"e", "a", "(other)"}));
  EXPECT_DOUBLE_EQ(h.current[0], 0.8);
  EXPECT_DOUBLE_EQ(h.reference[0], 0);
  EXPECT_DOUBLE_EQ(h.reference[1], 0.5);
  EXPECT_DOUBLE_EQ(h.reference[2], 0.5);  // b, c, d
  EXPECT_DOUBLE_EQ(h.current[2], 0.1);    // b
  EXPECT_DOUBLE_EQ(Sum(h.reference), 1);
  EXPECT_DOUBLE_EQ(Sum(h.current), 1);
  EXPECT_EQ(CategoricalHistogram(ref, cur).categories.size(), 5u);  // all fit
}

}  // namespace
}  // namespace closedloop
