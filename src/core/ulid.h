// ULID generation: 128-bit ids that sort by creation time (48-bit Unix millis +
// 80 random bits), rendered as 26 Crockford base-32 characters.
//
// Ids from one generator are strictly increasing, even within one millisecond
// (the random part is incremented, as the ULID spec's monotonic mode says).
// Thread safety: Next() is safe from any thread; each thread keeps its own
// monotonic state, so ids are unique across threads (independent random parts)
// and monotonic within a thread.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/clock.h"

namespace closedloop {

class UlidGenerator {
 public:
  // `clock` must outlive the generator.
  explicit UlidGenerator(const Clock& clock) : clock_(clock) {}
  std::string Next() const;

  // Encodes a timestamp and 80 random bits; exposed for tests.
  static std::string Encode(uint64_t unix_millis, const std::array<uint8_t, 10>& random);
  // The millisecond timestamp of a valid ULID string, or nullopt if malformed.
  static std::optional<uint64_t> TimestampOf(std::string_view ulid);

 private:
  const Clock& clock_;
};

}  // namespace closedloop
