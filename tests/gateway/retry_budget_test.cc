// The retry budget: a share of the first tries, plus the minimum to start with.
#include "gateway/retry_budget.h"

#include <gtest/gtest.h>

namespace closedloop {
namespace {

TEST(RetryBudgetTest, StartsWithTheMinimumAndEarnsTheRatio) {
  RetryBudget b(0.2, 3);
  for (int i = 0; i < 3; ++i) EXPECT_TRUE(b.TryRetry());
  EXPECT_FALSE(b.TryRetry());
  for (int i = 0; i < 10; ++i) b.OnFirstTry();  // 10 x 0.2 = 2 tokens
  EXPECT_TRUE(b.TryRetry());
  EXPECT_TRUE(b.TryRetry());
  EXPECT_FALSE(b.TryRetry());
}

TEST(RetryBudgetTest, SteadyStateRetriesAreAtMostTheRatio) {
  RetryBudget b(0.2, 10);
  int retries = 0;
  for (int i = 0; i < 100000; ++i) {
    b.OnFirstTry();
    if (b.TryRetry()) ++retries;  // every request fails and wants a retry
  }
  EXPECT_LE(retries, 20000 + 10);
  EXPECT_GE(retries, 20000);
}

TEST(RetryBudgetTest, TheBucketIsCapped) {
  RetryBudget b(0.5, 2);
  for (int i = 0; i < 1000000; ++i) b.OnFirstTry();
  EXPECT_LE(b.tokens(), 2 + 0.5 * 1000);
}

TEST(RetryBudgetTest, ZeroRatioAllowsOnlyTheMinimum) {
  RetryBudget b(0, 1);
  for (int i = 0; i < 100; ++i) b.OnFirstTry();
  EXPECT_TRUE(b.TryRetry());
  EXPECT_FALSE(b.TryRetry());
}

}  // namespace
}  // namespace closedloop
