// OtlpExporter: exports sampled requests' spans as OTLP/HTTP JSON
// (ExportTraceServiceRequest, POST {endpoint}, Content-Type application/json) to
// an OpenTelemetry collector or any OTLP receiver (Jaeger, Tempo).
//
// Each request becomes a SERVER span "<METHOD> <route>" (parent: the caller's span
// from `traceparent`) with INTERNAL child spans for its stages (parse, queue,
// compute, log). Attributes follow the HTTP semantic conventions
// (http.request.method, http.route, http.response.status_code) plus
// closedloop.request_id / .model / .version, so a trace links to the prediction
// log. A 5xx answer sets the span status to ERROR.
//
// Record() runs on io threads: it only pushes onto a bounded lock-free queue
// (max_queue spans; when full the spans are dropped and counted, never blocking a
// request). A thread sends the queue every export_interval_ms in batches of at
// most 512 spans; a failed POST is counted and its spans dropped (telemetry is
// not worth unbounded memory). Stop() sends what is queued, then joins.
//
// Metrics: closedloop_trace_spans_total{result="exported|dropped|failed"}.
// Thread safety: Record from any thread; Start/Stop/Flush from one controlling thread.
#pragma once

#include <condition_variable>
#include <mutex>
#include <string>
#include <thread>

#include "core/config.h"
#include "core/mpmc_queue.h"
#include "http/request_trace.h"
#include "monitor/metrics.h"

namespace closedloop {

class OtlpExporter final : public TraceSink {
 public:
  // `metrics` must outlive the exporter.
  OtlpExporter(const TracingConfig& config, MetricsRegistry& metrics);
  ~OtlpExporter() override;

  void Record(const FinishedRequest& request) override;
  void Start();
  void Stop();
  // Sends everything queued now; returns the number of spans the receiver accepted.
  int64_t Flush();

 private:
  struct SpanRecord {
    TraceId trace_id{};
    SpanId span_id{}, parent_id{};
    bool has_parent = false;
    bool server = false;  // SERVER span of the request; else an INTERNAL stage
    std::string name, method, route, request_id, model, version;
    unsigned status = 0;
    int64_t start_ns = 0, end_ns = 0;
  };
  void Push(SpanRecord& span);
  void Run();

  const TracingConfig config_;
  BoundedMpmcQueue<SpanRecord> queue_;
  Counter* exported_;
  Counter* dropped_;
  Counter* failed_;
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;  // guarded by mu_
  std::thread thread_;
};

// The OTLP/HTTP JSON body for spans (exposed for tests).
std::string OtlpTraceJson(const std::string& service_name, const std::string& spans_json);

}  // namespace closedloop
