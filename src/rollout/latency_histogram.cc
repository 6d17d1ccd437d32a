#include "rollout/latency_histogram.h"

#include <cmath>

namespace closedloop {

namespace {
constexpr double kFirstUpperMs = 0.001;  // 1 µs
constexpr double kGrowth = 1.1;
}  // namespace

int LatencyHistogram::BucketOf(double ms) {
  if (!(ms > kFirstUpperMs)) return 0;  // also NaN
  int b = static_cast<int>(std::ceil(std::log(ms / kFirstUpperMs) / std::log(kGrowth) - 1e-12));
  return b >= kBuckets ? kBuckets - 1 : b;
}

double LatencyHistogram::UpperBound(int bucket) {
  return kFirstUpperMs * std::pow(kGrowth, bucket);
}

void LatencyHistogram::Record(double ms) {
  counts_[static_cast<size_t>(BucketOf(ms))].fetch_add(1, std::memory_order_relaxed);
}

int64_t LatencyHistogram::Count() const {
  int64_t n = 0;
  for (const auto& c : counts_) n += c.load(std::memory_order_relaxed);
  return n;
}

double LatencyHistogram::Quantile(double q) const {
  std::array<int64_t, kBuckets> snap;
  int64_t n = 0;
  for (int i = 0; i < kBuckets; ++i) n += snap[i] = counts_[i].load(std::memory_order_relaxed);
  if (n == 0) return 0;
  double target = q * static_cast<double>(n);
  int64_t cum = 0;
  for (int i = 0; i < kBuckets; ++i) {
    cum += snap[i];
    if (static_cast<double>(cum) >= target) return UpperBound(i);
  }
  return UpperBound(kBuckets - 1);
}

int64_t LatencyHistogram::CountAbove(double ms) const {
  int64_t n = 0;
  for (int i = BucketOf(ms) + 1; i < kBuckets; ++i) n += counts_[i].load(std::memory_order_relaxed);
  return n;
}

}  // namespace closedloop
