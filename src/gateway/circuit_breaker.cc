#include "gateway/circuit_breaker.h"

#include <algorithm>

namespace closedloop {

CircuitBreaker::CircuitBreaker(const CircuitBreakerOptions& options, const Clock& clock,
                               std::function<void(State, State)> on_change)
    : options_(options),
      clock_(clock),
      on_change_(std::move(on_change)),
      slice_ns_(std::max<int64_t>(
          1, std::chrono::duration_cast<std::chrono::nanoseconds>(options.window).count() /
                 static_cast<int64_t>(kBuckets))),
      open_period_(options.open) {}

const char* BreakerStateName(CircuitBreaker::State state) {
  switch (state) {
    case CircuitBreaker::State::kClosed:
      return "closed";
    case CircuitBreaker::State::kOpen:
      return "open";
    case CircuitBreaker::State::kHalfOpen:
      return "half_open";
  }
  return "closed";
}

std::chrono::milliseconds CircuitBreaker::open_period() const {
  std::lock_guard lock(mu_);
  return open_period_;
}

int64_t CircuitBreaker::SliceNow() const {
  return clock_.MonotonicNow().time_since_epoch().count() / slice_ns_;
}

void CircuitBreaker::Count(bool ok) {
  const int64_t slice = SliceNow();
  Bucket& b = buckets_[static_cast<size_t>(slice) % kBuckets];
  int64_t seen = b.epoch.load(std::memory_order_acquire);
  if (seen != slice && b.epoch.compare_exchange_strong(seen, slice)) {
    // First in this slice: the bucket's old counts belong to a slice out of the window.
    b.total.store(0, std::memory_order_relaxed);
    b.failures.store(0, std::memory_order_relaxed);
  }
  b.total.fetch_add(1, std::memory_order_relaxed);
  if (!ok) b.failures.fetch_add(1, std::memory_order_relaxed);
}

bool CircuitBreaker::RateTripped() const {
  const int64_t now = SliceNow();
  int64_t total = 0, failures = 0;
  for (const Bucket& b : buckets_) {
    const int64_t epoch = b.epoch.load(std::memory_order_acquire);
    if (epoch < 0 || now - epoch >= static_cast<int64_t>(kBuckets)) continue;
    total += b.total.load(std::memory_order_relaxed);
    failures += b.failures.load(std::memory_order_relaxed);
  }
  return total >= options_.min_requests &&
         static_cast<double>(failures) >= options_.failure_rate * static_cast<double>(total);
}

void CircuitBreaker::TransitionLocked(State to) {
  const State from = state();
  if (from == to) return;
  if (to == State::kOpen) {
    open_until_ = clock_.MonotonicNow() + open_period_;
    probe_in_flight_ = false;
  } else if (to == State::kHalfOpen) {
    probe_successes_ = 0;
    probe_in_flight_ = false;
  } else {  // closed: a fresh start
    open_period_ = options_.open;
    consecutive_.store(0, std::memory_order_relaxed);
    for (Bucket& b : buckets_) b.epoch.store(-1, std::memory_order_release);
  }
  state_.store(static_cast<int>(to), std::memory_order_release);
  if (on_change_) on_change_(from, to);
}

CircuitBreaker::Ticket CircuitBreaker::Allow() {
  if (state() == State::kClosed) return Ticket::kAllowed;
  std::lock_guard lock(mu_);
  State s = state();
  if (s == State::kClosed) return Ticket::kAllowed;
  if (s == State::kOpen) {
    if (clock_.MonotonicNow() < open_until_) return Ticket::kRejected;
    TransitionLocked(State::kHalfOpen);
  }
  if (probe_in_flight_) return Ticket::kRejected;
  probe_in_flight_ = true;
  return Ticket::kProbe;
}

void CircuitBreaker::Record(Ticket ticket, bool ok) {
  if (ticket == Ticket::kRejected) return;
  if (ticket == Ticket::kProbe) {
    std::lock_guard lock(mu_);
    if (state() != State::kHalfOpen) return;
    probe_in_flight_ = false;
    if (!ok) {
      open_period_ = std::min(open_period_ * 2, options_.max_open);
      TransitionLocked(State::kOpen);
    } else if (++probe_successes_ >= options_.close_successes) {
      TransitionLocked(State::kClosed);
    }
    return;
  }
  // A try let through while closed; it may finish after the breaker opened, and
  // then it no longer counts.
  if (state() != State::kClosed) return;
  Count(ok);
  if (ok) {
    consecutive_.store(0, std::memory_order_relaxed);
    return;
  }
  const int run = consecutive_.fetch_add(1, std::memory_order_relaxed) + 1;
  if (run >= options_.consecutive_failures || RateTripped()) {
    std::lock_guard lock(mu_);
    if (state() == State::kClosed) TransitionLocked(State::kOpen);
  }
}

}  // namespace closedloop
