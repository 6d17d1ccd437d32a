#include "rollout/rollout_stats.h"

#include <algorithm>
#include <cmath>

namespace closedloop {

double NormalCdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

double NormalQuantile(double p) {
  // Bisection on the CDF: 200 halvings of [-40, 40] are exact to double precision,
  // and this is called a handful of times per decision.
  double lo = -40, hi = 40;
  for (int i = 0; i < 200 && hi - lo > 1e-15; ++i) {
    double mid = 0.5 * (lo + hi);
    (NormalCdf(mid) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

namespace {

// Continued fraction of the regularized incomplete beta function I_x(a, b)
// (modified Lentz), valid for x < (a + 1) / (a + b + 2).
double BetaContinuedFraction(double a, double b, double x) {
  constexpr double kTiny = 1e-300;
  double c = 1, d = 1 - (a + b) * x / (a + 1);
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 300; ++m) {
    double m2 = 2.0 * m;
    double num = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
    d = 1 + num * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + num / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    h *= d * c;
    num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
    d = 1 + num * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + num / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1) < 1e-15) break;
  }
  return h;
}

double RegularizedBeta(double a, double b, double x) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  double log_front =
      std::lgamma(a + b) - std::lgamma(a) - std::lgamma(b) + a * std::log(x) + b * std::log1p(-x);
  if (x < (a + 1) / (a + b + 2)) return std::exp(log_front) * BetaContinuedFraction(a, b, x) / a;
  return 1 - std::exp(log_front) * BetaContinuedFraction(b, a, 1 - x) / b;
}

}  // namespace

double StudentTCdf(double t, double df) {
  double tail = 0.5 * RegularizedBeta(df / 2, 0.5, df / (df + t * t));  // P(T > |t|)
  return t >= 0 ? 1 - tail : tail;
}

int64_t RequiredSampleSize(double sigma, double delta, double alpha, double power) {
  double z = NormalQuantile(1 - alpha / 2) + NormalQuantile(power);
  double n = 2 * z * z * sigma * sigma / (delta * delta);
  return std::max<int64_t>(1, static_cast<int64_t>(std::ceil(n - 1e-9)));
}

TestResult FailureRateTest(int64_t x1, int64_t n1, int64_t x2, int64_t n2) {
  TestResult r;
  if (n1 <= 0 || n2 <= 0) return r;
  double p = static_cast<double>(x1 + x2) / static_cast<double>(n1 + n2);
  double se = std::sqrt(p * (1 - p) * (1.0 / n1 + 1.0 / n2));
  if (se == 0) {
    r.p_value = 0.5;
    return r;
  }
  r.statistic = (static_cast<double>(x2) / n2 - static_cast<double>(x1) / n1) / se;
  r.p_value = 1 - NormalCdf(r.statistic);
  return r;
}

TestResult MeanScoreTest(double mean1, double var1, int64_t n1, double mean2, double var2,
                         int64_t n2) {
  TestResult r;
  if (n1 < 2 || n2 < 2) return r;
  double a = var1 / n1, b = var2 / n2;
  double se = std::sqrt(a + b);
  if (se == 0) {  // no spread at all: the difference itself decides
    r.p_value = mean2 < mean1 ? 0 : (mean2 > mean1 ? 1 : 0.5);
    return r;
  }
  r.statistic = (mean2 - mean1) / se;
  r.df = (a + b) * (a + b) / (a * a / (n1 - 1) + b * b / (n2 - 1));
  r.p_value = StudentTCdf(r.statistic, r.df);
  return r;
}

TestResult TailLatencyTest(int64_t above, int64_t n) {
  TestResult r;
  if (n <= 0) return r;
  constexpr double kShare = 0.01;
  r.statistic = (static_cast<double>(above) / n - kShare) / std::sqrt(kShare * (1 - kShare) / n);
  r.p_value = 1 - NormalCdf(r.statistic);
  return r;
}

void MeanVar::Add(double x) {
  ++n;
  double d = x - mean;
  mean += d / static_cast<double>(n);
  m2 += d * (x - mean);
}

}  // namespace closedloop
