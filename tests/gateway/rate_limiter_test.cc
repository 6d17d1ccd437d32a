// Token buckets on an injected clock: admitted rate, headers' numbers, bounded
// memory under 100,000 distinct principals.
#include "gateway/rate_limiter.h"

#include <gtest/gtest.h>

#include <random>
#include <string>

namespace closedloop {
namespace {

using std::chrono::microseconds;
using std::chrono::milliseconds;

TEST(RateLimiterTest, AdmittedRateIsTheConfiguredRateOverTenSeconds) {
  for (double rate : {5.0, 100.0, 1000.0}) {
    FakeClock clock;
    RateLimiter limiter(clock, 1000);
    const RateLimit limit{rate, 10};
    std::mt19937 gen(7);
    std::exponential_distribution<double> gap(4 * rate);  // Poisson arrivals at 4x the rate
    int64_t admitted = 0;
    double t = 0;
    while (t < 10.0) {
      double dt = gap(gen);
      t += dt;
      clock.Advance(std::chrono::nanoseconds(static_cast<int64_t>(dt * 1e9)));
      admitted += limiter.Acquire("k", limit).allowed ? 1 : 0;
    }
    // rate x 10 s plus the initial burst; within 5% of the configured rate.
    const double admitted_rate = static_cast<double>(admitted - 10) / 10.0;
    EXPECT_NEAR(admitted_rate, rate, 0.05 * rate) << "rate " << rate << " admitted " << admitted;
  }
}

TEST(RateLimiterTest, DecisionsCarryTheHeaderNumbers) {
  FakeClock clock;
  RateLimiter limiter(clock, 100);
  const RateLimit limit{2, 3};  // 2 per second, burst 3
  auto first = limiter.Acquire("a", limit);
  EXPECT_TRUE(first.allowed);
  EXPECT_EQ(first.limit, 3);
  EXPECT_EQ(first.remaining, 2);
  EXPECT_EQ(first.reset_seconds, 1);  // 1 token missing at 2/s: 0.5 s, rounded up
  limiter.Acquire("a", limit);
  limiter.Acquire("a", limit);
  auto refused = limiter.Acquire("a", limit);
  EXPECT_FALSE(refused.allowed);
  EXPECT_EQ(refused.remaining, 0);
  EXPECT_EQ(refused.retry_after_seconds, 1);
  EXPECT_EQ(refused.reset_seconds, 2);  // 3 tokens at 2/s
  // Other keys have their own buckets.
  EXPECT_TRUE(limiter.Acquire("b", limit).allowed);
  clock.Advance(milliseconds(500));
  EXPECT_TRUE(limiter.Acquire("a", limit).allowed);
  EXPECT_FALSE(limiter.Acquire("a", limit).allowed);
  // No limit configured: everything passes.
  for (int i = 0; i < 100; ++i) EXPECT_TRUE(limiter.Acquire("a", RateLimit{0, 1}).allowed);
}

TEST(RateLimiterTest, HundredThousandPrincipalsStayWithinTheBound) {
  FakeClock clock;
  const size_t max_keys = 6400;
  RateLimiter limiter(clock, max_keys);
  const RateLimit limit{1, 5};
  for (int i = 0; i < 100000; ++i) {
    ASSERT_TRUE(limiter.Acquire("principal-" + std::to_string(i), limit).allowed);
    clock.Advance(microseconds(10));
    // A hot client keeps hammering: recently used and draining, its bucket survives.
    if (i % 100 == 0) limiter.Acquire("hot", limit);
  }
  EXPECT_LE(limiter.size(), max_keys);
  EXPECT_FALSE(limiter.Acquire("hot", limit).allowed);
  // Idle buckets that refilled are evicted first: after a quiet period, new keys
  // replace them without touching draining ones.
  clock.Advance(std::chrono::seconds(10));
  for (int i = 0; i < 1000; ++i) limiter.Acquire("later-" + std::to_string(i), limit);
  EXPECT_LE(limiter.size(), max_keys);
}

TEST(RateLimiterTest, PeekDecidesLikeAcquireWithoutTakingATokens) {
  FakeClock clock;
  RateLimiter limiter(clock, 100);
  const RateLimit limit{1, 2};
  EXPECT_TRUE(limiter.Peek("k", limit).allowed);  // no bucket yet: a full one
  EXPECT_EQ(limiter.Peek("k", limit).remaining, 2);
  limiter.Acquire("k", limit);
  limiter.Acquire("k", limit);
  for (int i = 0; i < 3; ++i) {
    RateDecision d = limiter.Peek("k", limit);
    EXPECT_FALSE(d.allowed);
    EXPECT_EQ(d.retry_after_seconds, 1);
  }
  clock.Advance(std::chrono::seconds(1));
  EXPECT_TRUE(limiter.Peek("k", limit).allowed);
  EXPECT_TRUE(limiter.Acquire("k", limit).allowed);
  EXPECT_FALSE(limiter.Acquire("k", limit).allowed);
}

}  // namespace
}  // namespace closedloop
