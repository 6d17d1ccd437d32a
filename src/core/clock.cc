#include "core/clock.h"

#include <cstdio>

#include <ctime>

namespace closedloop {

int64_t Clock::NowUnixMillis() const {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Now().time_since_epoch()).count();
}

std::chrono::system_clock::time_point SystemClock::Now() const {
  return std::chrono::system_clock::now();
}

std::chrono::steady_clock::time_point SystemClock::MonotonicNow() const {
  return std::chrono::steady_clock::now();
}

const Clock& SystemClock::Get() {
  static const SystemClock clock;
  return clock;
}

FakeClock::FakeClock(int64_t start_unix_millis) : nanos_(start_unix_millis * 1'000'000) {}

std::chrono::system_clock::time_point FakeClock::Now() const {
  return std::chrono::system_clock::time_point(
      std::chrono::duration_cast<std::chrono::system_clock::duration>(
          std::chrono::nanoseconds(nanos_.load())));
}

std::chrono::steady_clock::time_point FakeClock::MonotonicNow() const {
  return std::chrono::steady_clock::time_point(std::chrono::nanoseconds(nanos_.load()));
}

void FakeClock::Advance(std::chrono::nanoseconds d) { nanos_.fetch_add(d.count()); }

std::string FormatUtc(int64_t unix_millis) {
  std::time_t t = static_cast<std::time_t>(unix_millis / 1000);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string FormatUtcMillis(int64_t unix_millis) {
  std::string out = FormatUtc(unix_millis);
  char ms[8];
  std::snprintf(ms, sizeof ms, ".%03dZ", static_cast<int>(unix_millis % 1000));
  out.replace(out.size() - 1, 1, ms);
  return out;
}

}  // namespace closedloop
