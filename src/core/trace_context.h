// W3C Trace Context (https://www.w3.org/TR/trace-context/): parsing and making
// `traceparent` headers and random trace and span ids.
//
//   traceparent: 00-<trace-id: 32 lower-case hex>-<parent-id: 16 hex>-<flags: 2 hex>
// A header with version ff, an all-zero trace or parent id, upper-case hex or the
// wrong length is invalid, and the receiver starts a new trace. Versions above 00
// are accepted when their first four fields have the 00 layout (forward
// compatibility, as the spec asks).
//
// Thread safety: the functions are thread-safe (random ids come from a
// per-thread generator seeded from std::random_device).
#pragma once

#include <array>
#include <optional>
#include <string>
#include <string_view>

namespace closedloop {

using TraceId = std::array<char, 32>;  // lower-case hex, not NUL-terminated
using SpanId = std::array<char, 16>;

struct Traceparent {
  TraceId trace_id;
  SpanId parent_id;
  bool sampled = false;
};

std::optional<Traceparent> ParseTraceparent(std::string_view header);
std::string FormatTraceparent(const TraceId& trace, const SpanId& span, bool sampled);

TraceId RandomTraceId();
SpanId RandomSpanId();
// Uniform in [0, 1), from the same per-thread generator (sampling decisions).
double RandomUnit();

inline std::string_view View(const TraceId& id) { return {id.data(), id.size()}; }
inline std::string_view View(const SpanId& id) { return {id.data(), id.size()}; }

}  // namespace closedloop
