// LatencyHistogram: a lock-free histogram of latencies for one arm of a rollout,
// on log-spaced buckets (each 10% wider than the previous, from 1 µs to ~3 min),
// so quantiles are exact to within 10%. Record() is wait-free (one relaxed
// atomic increment); reads may see a record half-way, which a rollout decision
// taken over thousands of requests does not notice.
// Thread safety: every method, from any thread.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>

namespace closedloop {

class LatencyHistogram {
 public:
  static constexpr int kBuckets = 200;
  void Record(double ms);
  int64_t Count() const;
  // The upper bound (ms) of the bucket holding the q-quantile; 0 when empty.
  double Quantile(double q) const;
  // How many recorded latencies lie in buckets above the one holding `ms`.
  int64_t CountAbove(double ms) const;

  static int BucketOf(double ms);
  static double UpperBound(int bucket);  // ms

 private:
  std::array<std::atomic<int64_t>, kBuckets> counts_{};
};

}  // namespace closedloop
