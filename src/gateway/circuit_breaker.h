// CircuitBreaker: stops sending requests to an upstream that keeps failing, and
// finds out by itself when it works again.
//
//   closed    every request goes through. Opens after `consecutive_failures`
//             failures in a row, or when at least `min_requests` finished in the
//             last `window` and the share of failures among them reached
//             `failure_rate`.
//   open      nothing goes through until the open period has passed; then the
//             next Allow() moves it to half-open.
//   half-open one probe at a time goes through. `close_successes` successful
//             probes close it; a failed probe opens it again for twice the last
//             open period (exponential backoff from `open` up to `max_open`).
//
// Usage: Allow() before a try; when it returns kProbe or kAllowed, report the
// try's outcome with Record(ticket, ok) exactly once.
//
// Thread safety: every method from any thread. The closed state — the common
// path — costs atomic loads and adds only; the mutex is taken on a transition and
// in half-open. Time comes from the injected Clock (monotonic).
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>

#include "core/clock.h"

namespace closedloop {

struct CircuitBreakerOptions {
  int consecutive_failures = 5;
  double failure_rate = 0.5;
  int64_t min_requests = 20;
  std::chrono::milliseconds window{10000};
  std::chrono::milliseconds open{500};
  std::chrono::milliseconds max_open{30000};
  int close_successes = 3;
};

class CircuitBreaker {
 public:
  enum class State { kClosed = 0, kOpen = 1, kHalfOpen = 2 };
  enum class Ticket { kRejected, kAllowed, kProbe };

  // `clock` must outlive the breaker. `on_change` (may be empty) is called after
  // each transition, outside the lock's critical work but while holding it:
  // keep it short (a log line, a gauge).
  CircuitBreaker(const CircuitBreakerOptions& options, const Clock& clock,
                 std::function<void(State from, State to)> on_change = nullptr);

  Ticket Allow();
  void Record(Ticket ticket, bool ok);

  State state() const { return static_cast<State>(state_.load(std::memory_order_acquire)); }
  // How long the breaker stays (or last stayed) open before probing.
  std::chrono::milliseconds open_period() const;

 private:
  static constexpr size_t kBuckets = 10;
  struct Bucket {
    std::atomic<int64_t> epoch{-1};  // window slice this bucket counts
    std::atomic<int64_t> total{0};
    std::atomic<int64_t> failures{0};
  };
  int64_t SliceNow() const;
  void Count(bool ok);
  bool RateTripped() const;
  void TransitionLocked(State to);  // mu_ held

  const CircuitBreakerOptions options_;
  const Clock& clock_;
  const std::function<void(State, State)> on_change_;
  const int64_t slice_ns_;  // window / kBuckets

  std::atomic<int> state_{static_cast<int>(State::kClosed)};
  std::atomic<int> consecutive_{0};
  std::array<Bucket, kBuckets> buckets_;

  mutable std::mutex mu_;  // transitions and half-open bookkeeping
  std::chrono::steady_clock::time_point open_until_;
  std::chrono::milliseconds open_period_;
  bool probe_in_flight_ = false;
  int probe_successes_ = 0;
};

const char* BreakerStateName(CircuitBreaker::State state);

}  // namespace closedloop
