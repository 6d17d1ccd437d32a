#include "monitor/otlp_exporter.h"

#include <vector>

#include "core/json_writer.h"
#include "core/logging.h"
#include "http/http_client.h"

namespace closedloop {

namespace {

constexpr size_t kMaxBatch = 512;

void StringAttribute(JsonWriter& w, std::string_view key, std::string_view value) {
  w.BeginObject()
      .Key("key")
      .String(key)
      .Key("value")
      .BeginObject()
      .Key("stringValue")
      .String(value)
      .EndObject()
      .EndObject();
}

}  // namespace

std::string OtlpTraceJson(const std::string& service_name, const std::string& spans_json) {
  JsonWriter w(spans_json.size() + 256);
  w.BeginObject().Key("resourceSpans").BeginArray().BeginObject().Key("resource").BeginObject();
  w.Key("attributes").BeginArray();
  StringAttribute(w, "service.name", service_name);
  StringAttribute(w, "service.version", CLOSEDLOOP_VERSION);
  w.EndArray().EndObject();
  w.Key("scopeSpans")
      .BeginArray()
      .BeginObject()
      .Key("scope")
      .BeginObject()
      .Key("name")
      .String("closedloop")
      .Key("version")
      .String(CLOSEDLOOP_VERSION)
      .EndObject()
      .Key("spans")
      .Raw(spans_json)
      .EndObject()
      .EndArray()
      .EndObject()
      .EndArray()
      .EndObject();
  return std::move(w).Take();
}

OtlpExporter::OtlpExporter(const TracingConfig& config, MetricsRegistry& metrics)
    : config_(config), queue_(config.max_queue) {
  auto* f =
      metrics.AddCounter("closedloop_trace_spans_total",
                         "Trace spans by export result (exported, dropped, failed).", {"result"});
  exported_ = &f->Labels({"exported"});
  dropped_ = &f->Labels({"dropped"});
  failed_ = &f->Labels({"failed"});
}

OtlpExporter::~OtlpExporter() { Stop(); }

void OtlpExporter::Push(SpanRecord& span) {
  if (!queue_.TryPush(span)) dropped_->Inc();
}

void OtlpExporter::Record(const FinishedRequest& r) {
  const RequestTrace& t = r.trace;
  SpanRecord server;
  server.trace_id = t.trace_id;
  server.span_id = t.span_id;
  server.parent_id = t.parent_id;
  server.has_parent = t.has_parent;
  server.server = true;
  server.name = std::string(r.method) + " " + std::string(r.route);
  server.method = r.method;
  server.route = r.route;
  server.request_id = r.request_id;
  server.model = r.model;
  server.version = r.version;
  server.status = r.status;
  server.start_ns = t.UnixNanos(t.start);
  server.end_ns = t.UnixNanos(r.end);
  Push(server);
  for (const SpanTiming& s : t.spans()) {
    SpanRecord child;
    child.trace_id = t.trace_id;
    child.span_id = RandomSpanId();
    child.parent_id = t.span_id;
    child.has_parent = true;
    child.name = s.name;
    child.start_ns = t.UnixNanos(s.start);
    child.end_ns = t.UnixNanos(s.end);
    Push(child);
  }
}

int64_t OtlpExporter::Flush() {
  int64_t accepted = 0;
  while (true) {
    std::vector<SpanRecord> batch;
    SpanRecord s;
    while (batch.size() < kMaxBatch && queue_.TryPop(s)) batch.push_back(std::move(s));
    if (batch.empty()) return accepted;
    JsonWriter w(batch.size() * 400);
    w.BeginArray();
    for (const SpanRecord& sp : batch) {
      w.BeginObject()
          .Key("traceId")
          .String(View(sp.trace_id))
          .Key("spanId")
          .String(View(sp.span_id));
      if (sp.has_parent) w.Key("parentSpanId").String(View(sp.parent_id));
      w.Key("name")
          .String(sp.name)
          .Key("kind")
          .Int(sp.server ? 2 : 1)  // SPAN_KIND_SERVER : SPAN_KIND_INTERNAL
          .Key("startTimeUnixNano")
          .String(std::to_string(sp.start_ns))
          .Key("endTimeUnixNano")
          .String(std::to_string(sp.end_ns));
      if (sp.server) {
        w.Key("attributes").BeginArray();
        StringAttribute(w, "http.request.method", sp.method);
        StringAttribute(w, "http.route", sp.route);
        w.BeginObject()
            .Key("key")
            .String("http.response.status_code")
            .Key("value")
            .BeginObject()
            .Key("intValue")
            .String(std::to_string(sp.status))
            .EndObject()
            .EndObject();
        StringAttribute(w, "closedloop.request_id", sp.request_id);
        if (!sp.model.empty()) StringAttribute(w, "closedloop.model", sp.model);
        if (!sp.version.empty()) StringAttribute(w, "closedloop.version", sp.version);
        w.EndArray();
        // STATUS_CODE_ERROR for a server error; unset otherwise (4xx is the client's).
        if (sp.status >= 500) w.Key("status").BeginObject().Key("code").Int(2).EndObject();
      }
      w.EndObject();
    }
    w.EndArray();
    auto res = HttpCall("POST", config_.otlp_endpoint, OtlpTraceJson("closedloop", w.str()), {},
                        std::chrono::milliseconds(5000));
    const auto n = static_cast<double>(batch.size());
    if (res.ok() && res->status >= 200 && res->status < 300) {
      exported_->Inc(n);
      accepted += static_cast<int64_t>(batch.size());
    } else {
      failed_->Inc(n);
      LogWarn("trace export failed; spans dropped")
          .Kv("endpoint", config_.otlp_endpoint)
          .Kv("spans", static_cast<int64_t>(batch.size()))
          .Kv("error", res.ok() ? "HTTP " + std::to_string(res->status) : res.status().message());
    }
  }
}

void OtlpExporter::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

void OtlpExporter::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  Flush();
}

void OtlpExporter::Run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    wake_.wait_for(lock, std::chrono::milliseconds(config_.export_interval_ms),
                   [this] { return stop_; });
    lock.unlock();
    Flush();
    lock.lock();
  }
}

}  // namespace closedloop
