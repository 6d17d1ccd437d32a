// Clock: the injected source of time. Production code never calls
// std::chrono::*_clock::now() directly; it asks a Clock, so tests can drive time.
//
// Thread safety: all methods are safe to call from any thread.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>

namespace closedloop {

class Clock {
 public:
  virtual ~Clock() = default;
  // Wall-clock time, for timestamps that are stored or shown (Unix epoch).
  virtual std::chrono::system_clock::time_point Now() const = 0;
  // Monotonic time, for durations and deadlines.
  virtual std::chrono::steady_clock::time_point MonotonicNow() const = 0;

  int64_t NowUnixMillis() const;
};

// The real clock. A process-wide instance is available via SystemClock::Get().
class SystemClock final : public Clock {
 public:
  std::chrono::system_clock::time_point Now() const override;
  std::chrono::steady_clock::time_point MonotonicNow() const override;
  static const Clock& Get();
};

// A clock that only moves when told to. Both wall and monotonic time advance together.
class FakeClock final : public Clock {
 public:
  explicit FakeClock(int64_t start_unix_millis = 1'700'000'000'000);
  std::chrono::system_clock::time_point Now() const override;
  std::chrono::steady_clock::time_point MonotonicNow() const override;
  void Advance(std::chrono::nanoseconds d);

 private:
  std::atomic<int64_t> nanos_;
};

// "2026-11-22T07:30:27Z" (UTC, second precision) for a time in ms since the epoch.
std::string FormatUtc(int64_t unix_millis);
// "2026-11-22T07:30:27.042Z" (UTC, millisecond precision).
std::string FormatUtcMillis(int64_t unix_millis);

}  // namespace closedloop
