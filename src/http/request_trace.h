// RequestTrace: the trace context and span timings of one request.
//
// The server starts it from the request's W3C `traceparent` (continuing the
// caller's trace, its span as our parent) or a new trace, gives the request a
// server span id, and answers with `traceparent: 00-<trace>-<server span>-<flags>`.
// Handlers add child spans for their stages (parse, queue, compute, log) with
// Add(); names must be string literals (they are kept as views).
// When the request is answered the server hands a FinishedRequest to the
// TraceSink (the OTLP exporter), if one is installed.
//
// Thread safety: a RequestTrace belongs to its request (one thread at a time).
// TraceSink::Record is called from io threads and must not block.
#pragma once

#include <array>
#include <chrono>
#include <span>
#include <string_view>

#include "core/trace_context.h"

namespace closedloop {

struct SpanTiming {
  std::string_view name;  // static storage
  std::chrono::steady_clock::time_point start, end;
};

struct RequestTrace {
  TraceId trace_id{};
  SpanId span_id{};    // the request's server span
  SpanId parent_id{};  // the caller's span, when has_parent
  bool has_parent = false;
  bool sampled = false;
  std::chrono::system_clock::time_point wall_start;
  std::chrono::steady_clock::time_point start;
  // Stage spans, in a fixed array: no allocation on the request path. Beyond
  // kMaxSpans further Add() calls are ignored.
  static constexpr size_t kMaxSpans = 8;
  std::array<SpanTiming, kMaxSpans> span_storage{};
  size_t span_count = 0;

  void Add(std::string_view name, std::chrono::steady_clock::time_point from,
           std::chrono::steady_clock::time_point to) {
    if (span_count < kMaxSpans) span_storage[span_count++] = {name, from, to};
  }
  std::span<const SpanTiming> spans() const { return {span_storage.data(), span_count}; }
  // A span's times as Unix nanoseconds (the wall clock at the request's start plus
  // the monotonic offset, so spans of one request never go backwards).
  int64_t UnixNanos(std::chrono::steady_clock::time_point t) const {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(wall_start.time_since_epoch())
               .count() +
           std::chrono::duration_cast<std::chrono::nanoseconds>(t - start).count();
  }
};

struct FinishedRequest {
  const RequestTrace& trace;
  std::string_view method, route, request_id, model, version;
  unsigned status;
  std::chrono::steady_clock::time_point end;
};

class TraceSink {
 public:
  virtual ~TraceSink() = default;
  virtual void Record(const FinishedRequest& request) = 0;
};

}  // namespace closedloop
