#include "core/ulid.h"

#include <random>

namespace closedloop {
namespace {

constexpr char kAlphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

int DecodeChar(char c) {
  if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  for (int i = 0; i < 32; ++i) {
    if (kAlphabet[i] == c) return i;
  }
  return -1;
}

struct ThreadState {
  std::mt19937_64 rng{std::random_device{}()};
  uint64_t last_ms = 0;
  std::array<uint8_t, 10> random{};
};

void Randomize(ThreadState& s) {
  uint64_t a = s.rng(), b = s.rng();
  for (int i = 0; i < 8; ++i) s.random[i] = static_cast<uint8_t>(a >> (8 * i));
  s.random[8] = static_cast<uint8_t>(b);
  s.random[9] = static_cast<uint8_t>(b >> 8);
  s.random[0] &= 0x7f;  // leave headroom so increments within one ms never overflow
}

void Increment(std::array<uint8_t, 10>& r) {
  for (int i = 9; i >= 0; --i) {
    if (++r[i] != 0) return;
  }
}

}  // namespace

std::string UlidGenerator::Next() const {
  thread_local ThreadState state;
  uint64_t ms = static_cast<uint64_t>(clock_.NowUnixMillis());
  if (ms > state.last_ms) {
    state.last_ms = ms;
    Randomize(state);
  } else {
    Increment(state.random);  // same (or earlier) millisecond: stay monotonic
  }
  return Encode(state.last_ms, state.random);
}

std::string UlidGenerator::Encode(uint64_t ms, const std::array<uint8_t, 10>& random) {
  std::string out(26, '0');
  for (int i = 9; i >= 0; --i) {  // 10 chars of timestamp, 5 bits each
    out[i] = kAlphabet[ms & 31];
    ms >>= 5;
  }
  // 80 random bits -> 16 chars.
  unsigned __int128 r = 0;
  for (uint8_t b : random) r = (r << 8) | b;
  for (int i = 25; i >= 10; --i) {
    out[i] = kAlphabet[static_cast<int>(r & 31)];
    r >>= 5;
  }
  return out;
}

std::optional<uint64_t> UlidGenerator::TimestampOf(std::string_view ulid) {
  if (ulid.size() != 26) return std::nullopt;
  for (char c : ulid) {
    if (DecodeChar(c) < 0) return std::nullopt;
  }
  if (DecodeChar(ulid[0]) > 7) return std::nullopt;  // would overflow 128 bits
  uint64_t ms = 0;
  for (int i = 0; i < 10; ++i) ms = (ms << 5) | static_cast<uint64_t>(DecodeChar(ulid[i]));
  return ms;
}

}  // namespace closedloop
