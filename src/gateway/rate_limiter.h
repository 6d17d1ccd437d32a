// RateLimiter: token buckets keyed by principal or client address.
//
// A bucket holds up to `burst` tokens and refills at `rate` tokens per second;
// a request takes one. Memory is bounded: at most `max_keys` buckets live. A
// bucket that has refilled to its burst is indistinguishable from a new one, so
// such idle buckets are evicted freely (no behaviour change); only when every
// bucket of a shard is still draining does the least recently used one go (its
// key then starts again with a full bucket — the one way the bound can loosen a
// limit, and only under more than `max_keys` active keys).
//
// Thread safety: Acquire from any thread. Keys hash to 64 shards, each with its
// own mutex held for a few hundred nanoseconds: no lock is shared by all requests.
// Time comes from the injected Clock (monotonic).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>

#include "core/clock.h"

namespace closedloop {

struct RateLimit {
  double rate = 0;   // tokens per second; <= 0: unlimited
  double burst = 1;  // bucket size, >= 1
};

struct RateDecision {
  bool allowed = true;
  int64_t limit = 0;                // the burst (RateLimit-Limit)
  int64_t remaining = 0;            // whole tokens left after this request (RateLimit-Remaining)
  int64_t reset_seconds = 0;        // until the bucket is full again (RateLimit-Reset)
  int64_t retry_after_seconds = 0;  // when refused: until one token is back (Retry-After)
};

class RateLimiter {
 public:
  // `clock` must outlive the limiter.
  RateLimiter(const Clock& clock, size_t max_keys);
  RateDecision Acquire(std::string_view key, const RateLimit& limit);
  // What Acquire would decide now, without taking a token (a key without a
  // bucket has a full one).
  RateDecision Peek(std::string_view key, const RateLimit& limit) const;
  size_t size() const;  // live buckets (approximate while others acquire)

 private:
  struct Bucket {
    double tokens = 0;
    int64_t last_ns = 0;         // monotonic time of the last refill
    double rate = 0, burst = 1;  // of the last Acquire (limits may differ per key)
  };
  struct KeyHash {  // lets find() take a string_view without building a string
    using is_transparent = void;
    size_t operator()(std::string_view k) const { return std::hash<std::string_view>{}(k); }
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Bucket, KeyHash, std::equal_to<>> buckets;
  };
  static constexpr size_t kShards = 64;
  void EvictLocked(Shard& shard, int64_t now_ns);

  const Clock& clock_;
  const size_t max_per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace closedloop
