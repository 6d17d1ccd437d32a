#include "serving/traffic_split.h"

#include <gtest/gtest.h>

#include <set>

namespace closedloop {
namespace {

TEST(TrafficSplitTest, BucketsAreDeterministicUniformAndIndependentPerSalt) {
  EXPECT_EQ(SplitBucket("customer-17", 0), SplitBucket("customer-17", 0));
  int canary = 0, shadow = 0, both = 0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    std::string key = "key-" + std::to_string(i);
    bool c = SplitBucket(key, 0) < 50000;   // 5%
    bool s = SplitBucket(key, 1) < 500000;  // 50%
    canary += c;
    shadow += s;
    both += c && s;
  }
  EXPECT_NEAR(canary / double(n), 0.05, 0.004);  // > 5 standard errors
  EXPECT_NEAR(shadow / double(n), 0.5, 0.008);
  EXPECT_NEAR(both / double(n), 0.025, 0.003);  // independent: 5% of 50%
}

TEST(TrafficSplitTest, SetGetClear) {
  TrafficSplits splits;
  EXPECT_EQ(splits.Get("m"), nullptr);
  TrafficSplit s;
  s.challenger_version = 2;
  s.canary_ppm = 10000;
  splits.Set("m", s);
  auto got = splits.Get("m");
  ASSERT_NE(got, nullptr);
  EXPECT_EQ(got->challenger_version, 2);
  splits.Clear("m");
  EXPECT_EQ(splits.Get("m"), nullptr);
  EXPECT_NE(got, nullptr);  // a holder keeps its snapshot
}

}  // namespace
}  // namespace closedloop
