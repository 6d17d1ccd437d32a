#include "gateway/rate_limiter.h"

#include <algorithm>
#include <cmath>
#include <functional>

namespace closedloop {

RateLimiter::RateLimiter(const Clock& clock, size_t max_keys)
    : clock_(clock), max_per_shard_(std::max<size_t>(1, max_keys / kShards)) {}

RateDecision RateLimiter::Acquire(std::string_view key, const RateLimit& limit) {
  RateDecision d;
  if (limit.rate <= 0) return d;
  const double burst = std::max(1.0, limit.burst);
  d.limit = static_cast<int64_t>(burst);
  const int64_t now =
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.MonotonicNow().time_since_epoch())
          .count();
  Shard& shard = shards_[std::hash<std::string_view>{}(key) % kShards];
  std::lock_guard lock(shard.mu);
  auto it = shard.buckets.find(key);
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= max_per_shard_) EvictLocked(shard, now);
    it = shard.buckets.emplace(std::string(key), Bucket{burst, now, limit.rate, burst}).first;
  }
  Bucket& b = it->second;
  b.rate = limit.rate;
  b.burst = burst;
  b.tokens = std::min(burst, b.tokens + static_cast<double>(now - b.last_ns) * 1e-9 * limit.rate);
  b.last_ns = now;
  if (b.tokens >= 1) {
    b.tokens -= 1;
  } else {
    d.allowed = false;
    d.retry_after_seconds = static_cast<int64_t>(std::ceil((1 - b.tokens) / limit.rate));
  }
  d.remaining = static_cast<int64_t>(std::floor(b.tokens));
  d.reset_seconds = static_cast<int64_t>(std::ceil((burst - b.tokens) / limit.rate));
  return d;
}

RateDecision RateLimiter::Peek(std::string_view key, const RateLimit& limit) const {
  RateDecision d;
  if (limit.rate <= 0) return d;
  const double burst = std::max(1.0, limit.burst);
  d.limit = static_cast<int64_t>(burst);
  d.remaining = d.limit;
  const int64_t now =
      std::chrono::duration_cast<std::chrono::nanoseconds>(clock_.MonotonicNow().time_since_epoch())
          .count();
  const Shard& shard = shards_[std::hash<std::string_view>{}(key) % kShards];
  std::lock_guard lock(shard.mu);
  auto it = shard.buckets.find(key);
  if (it == shard.buckets.end()) return d;
  const double tokens = std::min(
      burst, it->second.tokens + static_cast<double>(now - it->second.last_ns) * 1e-9 * limit.rate);
  if (tokens < 1) {
    d.allowed = false;
    d.retry_after_seconds = static_cast<int64_t>(std::ceil((1 - tokens) / limit.rate));
  }
  d.remaining = static_cast<int64_t>(std::floor(tokens));
  d.reset_seconds = static_cast<int64_t>(std::ceil((burst - tokens) / limit.rate));
  return d;
}

void RateLimiter::EvictLocked(Shard& shard, int64_t now_ns) {
  // Full again (refilled to the burst): the same as no bucket at all.
  auto oldest = shard.buckets.end();
  for (auto it = shard.buckets.begin(); it != shard.buckets.end();) {
    const Bucket& b = it->second;
    double tokens = b.tokens + static_cast<double>(now_ns - b.last_ns) * 1e-9 * b.rate;
    if (tokens >= b.burst) {
      it = shard.buckets.erase(it);
      continue;
    }
    if (oldest == shard.buckets.end() || it->second.last_ns < oldest->second.last_ns) oldest = it;
    ++it;
  }
  if (shard.buckets.size() >= max_per_shard_ && oldest != shard.buckets.end()) {
    shard.buckets.erase(oldest);
  }
}

size_t RateLimiter::size() const {
  size_t n = 0;
  for (const Shard& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.buckets.size();
  }
  return n;
}

}  // namespace closedloop
