#include "gateway/retry_budget.h"

#include <algorithm>
#include <cmath>

namespace closedloop {

RetryBudget::RetryBudget(double ratio, int min_tokens)
    : deposit_(static_cast<int64_t>(std::llround(ratio * 1000))),
      cap_(static_cast<int64_t>(min_tokens) * 1000 + deposit_ * 1000),
      milli_(static_cast<int64_t>(min_tokens) * 1000) {}

void RetryBudget::OnFirstTry() {
  if (deposit_ == 0) return;
  int64_t cur = milli_.load(std::memory_order_relaxed);
  while (cur < cap_ && !milli_.compare_exchange_weak(cur, std::min(cap_, cur + deposit_),
                                                     std::memory_order_relaxed)) {
  }
}

bool RetryBudget::TryRetry() {
  int64_t cur = milli_.load(std::memory_order_relaxed);
  while (cur >= 1000) {
    if (milli_.compare_exchange_weak(cur, cur - 1000, std::memory_order_relaxed)) return true;
  }
  return false;
}

}  // namespace closedloop
