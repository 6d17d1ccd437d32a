// RetryBudget: bounds retries to a share of the traffic, so that retries cannot
// multiply the load on replicas that are already failing (a retry storm).
//
// A token bucket: every first try deposits `ratio` tokens, a retry takes one. It
// starts with `min_tokens` (so a quiet gateway can still retry) and holds at most
// `min_tokens` plus the deposits of 1,000 first tries. With ratio 0.2, at most
// one try in five is a retry in steady state.
//
// Thread safety: any thread; lock-free (one atomic in thousandths of a token).
#pragma once

#include <atomic>
#include <cstdint>

namespace closedloop {

class RetryBudget {
 public:
  RetryBudget(double ratio, int min_tokens);
  void OnFirstTry();
  // True (and a token spent) when a retry is allowed now.
  bool TryRetry();
  double tokens() const { return static_cast<double>(milli_.load()) / 1000.0; }

 private:
  const int64_t deposit_;  // thousandths of a token per first try
  const int64_t cap_;
  std::atomic<int64_t> milli_;
};

}  // namespace closedloop
