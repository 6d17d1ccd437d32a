// The statistics a rollout decides with. Pure functions; thread-safe.
//
// Every test here is one-sided in the direction of harm — "is the challenger
// worse than the champion?" — because a rollout only ever stops for harm: a
// challenger that is significantly *better* passes the step like an equal one.
#pragma once

#include <cstdint>

namespace closedloop {

double NormalCdf(double z);
double NormalQuantile(double p);  // inverse of NormalCdf, p in (0, 1)
// P(T <= t) for Student's t with `df` degrees of freedom (df > 0, real-valued).
double StudentTCdf(double t, double df);

// Per-arm sample size to detect a difference `delta` of means with standard
// deviation `sigma` at two-sided level alpha and the given power:
//   n = 2 (z_{1-α/2} + z_{power})² σ² / δ²   (rounded up; at least 1)
int64_t RequiredSampleSize(double sigma, double delta, double alpha, double power);

struct TestResult {
  double statistic = 0;  // z or t
  double p_value = 1;    // one-sided: small when the challenger is worse
  double df = 0;         // Welch's degrees of freedom (t tests only)
};

// Two-proportion z-test (pooled) that the challenger's failure rate x2/n2 is
// higher than the champion's x1/n1. With no failures at all: statistic 0, p 0.5.
TestResult FailureRateTest(int64_t x1, int64_t n1, int64_t x2, int64_t n2);

// Welch's t-test that the challenger's mean (mean2) is lower than the champion's.
// Variances are sample variances (n - 1). Needs n1, n2 >= 2.
TestResult MeanScoreTest(double mean1, double var1, int64_t n1, double mean2, double var2,
                         int64_t n2);

// Tail-latency test: of the challenger's n requests, `above` took longer than the
// champion's p99; under "same distribution" that share is 1%. One-sided z-test
// that it is larger.
TestResult TailLatencyTest(int64_t above, int64_t n);

// Running mean and variance (Welford). Not thread-safe; a value type.
struct MeanVar {
  int64_t n = 0;
  double mean = 0;
  double m2 = 0;
  void Add(double x);
  double variance() const { return n > 1 ? m2 / static_cast<double>(n - 1) : 0; }
};

}  // namespace closedloop
