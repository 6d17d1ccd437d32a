#include "core/trace_context.h"

#include <random>

namespace closedloop {

namespace {

bool IsLowerHex(std::string_view s) {
  for (char c : s) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

bool AllZero(std::string_view s) { return s.find_first_not_of('0') == std::string_view::npos; }

std::mt19937_64& Generator() {
  thread_local std::mt19937_64 gen([] {
    std::random_device rd;
    return (static_cast<uint64_t>(rd()) << 32) ^ rd();
  }());
  return gen;
}

template <size_t N>
std::array<char, N> RandomHex() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::array<char, N> out;
  do {
    for (size_t i = 0; i < N; i += 16) {
      uint64_t v = Generator()();
      for (size_t j = 0; j < 16 && i + j < N; ++j) out[i + j] = kHex[(v >> (4 * j)) & 0xf];
    }
  } while (AllZero({out.data(), N}));
  return out;
}

}  // namespace

std::optional<Traceparent> ParseTraceparent(std::string_view h) {
  while (!h.empty() && (h.front() == ' ' || h.front() == '\t')) h.remove_prefix(1);
  while (!h.empty() && (h.back() == ' ' || h.back() == '\t')) h.remove_suffix(1);
  // version(2) - trace(32) - parent(16) - flags(2) = 55 characters.
  if (h.size() < 55 || h[2] != '-' || h[35] != '-' || h[52] != '-') return std::nullopt;
  std::string_view version = h.substr(0, 2), trace = h.substr(3, 32), parent = h.substr(36, 16),
                   flags = h.substr(53, 2);
  if (!IsLowerHex(version) || version == "ff" || !IsLowerHex(trace) || !IsLowerHex(parent) ||
      !IsLowerHex(flags) || AllZero(trace) || AllZero(parent)) {
    return std::nullopt;
  }
  if (version == "00" && h.size() != 55) return std::nullopt;
  if (version != "00" && h.size() > 55 && h[55] != '-') return std::nullopt;
  Traceparent t;
  std::copy(trace.begin(), trace.end(), t.trace_id.begin());
  std::copy(parent.begin(), parent.end(), t.parent_id.begin());
  int f = (flags[1] >= 'a' ? flags[1] - 'a' + 10 : flags[1] - '0');
  t.sampled = (f & 1) != 0;
  return t;
}

std::string FormatTraceparent(const TraceId& trace, const SpanId& span, bool sampled) {
  std::string out;
  out.reserve(55);
  out += "00-";
  out.append(trace.data(), trace.size());
  out += '-';
  out.append(span.data(), span.size());
  out += sampled ? "-01" : "-00";
  return out;
}

TraceId RandomTraceId() { return RandomHex<32>(); }
SpanId RandomSpanId() { return RandomHex<16>(); }

double RandomUnit() {
  return static_cast<double>(Generator()() >> 11) * (1.0 / 9007199254740992.0);
}

}  // namespace closedloop
