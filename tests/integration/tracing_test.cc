// Tracing through the real binary: a caller's W3C traceparent is continued (same
// trace id, our server span as the child of the caller's span), the response
// carries our traceparent, span timings go to the debug log with the trace id, and
// sampled requests are exported as OTLP/HTTP JSON to a receiver on loopback.
#include <poll.h>

#include <filesystem>
#include <set>

#include "integration/fixture.h"
#include "support/http_sink.h"
#include "support/onnx_models.h"

namespace closedloop::testing {
namespace {

constexpr const char* kCallerTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
constexpr const char* kCallerSpan = "00f067aa0ba902b7";

std::string Str(simdjson::dom::element e) { return std::string(std::string_view(e.get_string())); }

// The spans of every OTLP body received, flattened.
std::vector<std::string> Spans(const std::vector<SinkRequest>& received) {
  std::vector<std::string> out;
  for (const auto& r : received) {
    auto j = ParseJson(r.body);
    auto rs = j->root["resourceSpans"].at(0);
    EXPECT_EQ(Str(rs["resource"]["attributes"].at(0)["value"]["stringValue"]), "closedloop");
    for (auto s : rs["scopeSpans"].at(0)["spans"].get_array()) {
      out.push_back(std::string(simdjson::to_string(s)));
    }
  }
  return out;
}

class TracingTest : public ServerFixture {};

TEST_F(TracingTest, TraceparentIsContinuedLoggedAndExported) {
  HttpSink collector;
  collector.Listen();
  std::filesystem::create_directories(dir_.File("models/mlp/1"));
  WriteMlpModel(dir_.File("models/mlp/1/model.onnx"));
  WriteFile(dir_.File("models/mlp/1/config.toml"),
            "flavor = \"onnx\"\n[batching]\nmax_batch_size = 4\nmax_queue_delay_us = 1000\n");
  Start(std::string(kTestConfig) + "[tracing]\notlp_endpoint = \"" + collector.Url("/v1/traces") +
            "\"\nexport_interval_ms = 50\n",
        true, {"--log-level", "debug"});

  const std::string parent = std::string("00-") + kCallerTrace + "-" + kCallerSpan + "-01";
  auto r = Fetch(port_, "POST", "/v1/predict", R"({"model":"support-intent","text":"card"})",
                 {{"Content-Type", "application/json"}, {"traceparent", parent}});
  ASSERT_EQ(r.status, 200) << r.body;
  std::string tp = r.Header("traceparent");
  ASSERT_EQ(tp.size(), 55u) << tp;
  EXPECT_EQ(tp.substr(3, 32), kCallerTrace);
  std::string server_span = tp.substr(36, 16);
  EXPECT_NE(server_span, kCallerSpan);
  EXPECT_EQ(tp.substr(53), "01");
  const std::string request_id = r.Header("x-request-id");

  // Not sampled by the caller: continued, answered, never exported.
  const std::string quiet_trace = "11111111111111111111111111111111";
  auto q = Fetch(port_, "POST", "/v1/predict", R"({"model":"support-intent","text":"card"})",
                 {{"Content-Type", "application/json"},
                  {"traceparent", "00-" + quiet_trace + "-2222222222222222-00"}});
  EXPECT_EQ(q.Header("traceparent").substr(3, 32), quiet_trace);
  EXPECT_EQ(q.Header("traceparent").substr(53), "00");
  // A malformed header starts a new trace.
  auto g = Fetch(port_, "POST", "/v1/predict", R"({"model":"support-intent","text":"card"})",
                 {{"Content-Type", "application/json"}, {"traceparent", "00-zz-yy-01"}});
  ASSERT_EQ(g.status, 200);
  EXPECT_EQ(g.Header("traceparent").size(), 55u);
  EXPECT_EQ(g.Header("traceparent").find("zz"), std::string::npos);
  // A batched OIP call has a queue span.
  auto infer =
      Fetch(port_, "POST", "/v2/models/mlp/infer",
            R"({"inputs":[{"name":"X","shape":[1,4],"datatype":"FP32","data":[1,2,3,4]}]})");
  ASSERT_EQ(infer.status, 200) << infer.body;
  const std::string infer_trace = infer.Header("traceparent").substr(3, 32);

  // Our spans arrive at the collector (the 3 sampled requests: server + stage spans).
  std::vector<std::string> spans;
  bool have_infer = false, have_predict = false;
  for (int i = 0; i < 400 && !(have_infer && have_predict); ++i) {
    spans = Spans(collector.WaitFor(1 + i, std::chrono::milliseconds(50)));
    have_predict = have_infer = false;
    for (const auto& s : spans) {
      have_predict = have_predict || s.find(kCallerTrace) != std::string::npos;
      have_infer = have_infer || (s.find(infer_trace) != std::string::npos &&
                                  s.find(R"("name":"compute")") != std::string::npos);
    }
  }
  ASSERT_TRUE(have_predict && have_infer);
  int64_t server_start = 0, server_end = 0;
  std::set<std::string> stages, infer_stages;
  for (const auto& text : spans) {
    EXPECT_EQ(text.find(quiet_trace), std::string::npos) << "unsampled trace exported";
    auto s = ParseJson(text);
    std::string trace = Str(s->root["traceId"]);
    if (trace == infer_trace) infer_stages.insert(Str(s->root["name"]));
    if (trace != kCallerTrace) continue;
    if (Str(s->root["spanId"]) == server_span) {
      EXPECT_EQ(Str(s->root["parentSpanId"]), kCallerSpan);
      EXPECT_EQ(Str(s->root["name"]), "POST /v1/predict");
      EXPECT_EQ(int64_t(s->root["kind"]), 2);
      std::string attrs = std::string(simdjson::to_string(s->root["attributes"]));
      EXPECT_NE(attrs.find(request_id), std::string::npos) << attrs;
      EXPECT_NE(attrs.find(R"({"intValue":"200"})"), std::string::npos) << attrs;
      EXPECT_NE(attrs.find("support-intent"), std::string::npos) << attrs;
      server_start = std::stoll(Str(s->root["startTimeUnixNano"]));
      server_end = std::stoll(Str(s->root["endTimeUnixNano"]));
    } else {
      EXPECT_EQ(Str(s->root["parentSpanId"]), server_span);
      EXPECT_EQ(int64_t(s->root["kind"]), 1);
      stages.insert(Str(s->root["name"]));
    }
  }
  EXPECT_EQ(stages, (std::set<std::string>{"parse", "compute", "log"}));
  EXPECT_TRUE(infer_stages.count("queue")) << spans.size();
  EXPECT_GT(server_start, 1'700'000'000'000'000'000);
  EXPECT_GE(server_end, server_start);
  for (const auto& text : spans) {  // every stage lies inside its server span
    auto s = ParseJson(text);
    if (Str(s->root["traceId"]) != kCallerTrace || Str(s->root["spanId"]) == server_span) continue;
    EXPECT_GE(std::stoll(Str(s->root["startTimeUnixNano"])), server_start);
    EXPECT_LE(std::stoll(Str(s->root["endTimeUnixNano"])), server_end);
  }

  // The debug log line of the request names its trace and the stage timings.
  std::string log = server_->Stderr();
  size_t at = log.find(std::string("trace_id=") + kCallerTrace);
  ASSERT_NE(at, std::string::npos) << log.substr(0, 2000);
  std::string line = log.substr(at, log.find('\n', at) - at);
  EXPECT_NE(line.find("compute_ms="), std::string::npos) << line;
  EXPECT_NE(line.find("log_ms="), std::string::npos) << line;
  auto metrics = Fetch(port_, "GET", "/metrics").body;
  EXPECT_NE(metrics.find("closedloop_trace_spans_total{result=\"exported\"}"), std::string::npos);
}

TEST_F(TracingTest, CollectorDownNeverFailsRequests) {
  HttpSink collector;  // bound but never accepting
  Start(std::string(kTestConfig) + "[tracing]\notlp_endpoint = \"" + collector.Url("/v1/traces") +
        "\"\nexport_interval_ms = 20\n");
  for (int i = 0; i < 50; ++i) {
    ASSERT_EQ(Predict(R"({"model":"support-intent","text":"card"})").status, 200);
  }
  bool failed = false;
  for (int i = 0; i < 500 && !failed; ++i) {
    failed = Fetch(port_, "GET", "/metrics")
                 .body.find("closedloop_trace_spans_total{result=\"failed\"}") != std::string::npos;
    if (!failed) poll(nullptr, 0, 20);
  }
  EXPECT_TRUE(failed);
  EXPECT_EQ(Predict(R"({"model":"support-intent","text":"card"})").status, 200);
}

}  // namespace
}  // namespace closedloop::testing
