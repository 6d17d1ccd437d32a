// SLOs and alerts through the real binary: 5xx answers burn the availability
// budget, the burn-rate rules fire an alert that is logged, listed by
// GET /v1/alerts and POSTed to a webhook that is down at first (retried with
// backoff until it answers), kept across a restart, and resolved once enough good
// traffic cools every window.
#include <poll.h>

#include <csignal>

#include "integration/fixture.h"
#include "support/command.h"
#include "support/http_sink.h"

namespace closedloop::testing {
namespace {

class SloTest : public ServerFixture {
 protected:
  std::string Config(const std::string& webhook) {
    WriteFile(dir_.File("support.toml"), R"(intent_model = "no-such-model"
sentiment_model = ""
default_reply = "About {intent}."
)");
    return std::string(kTestConfig) + "[support]\nrules_file = \"" + dir_.File("support.toml") +
           "\"\n[slo]\navailability = 0.999\nlatency = 0.95\nlatency_threshold_ms = 1000\n"
           "interval_ms = 50\nmin_requests = 5\n[alerts]\nwebhooks = [\"" +
           webhook + "\"]\nretry_initial_ms = 50\nretry_max_ms = 200\n";
  }
  // The first SLO object of GET /v1/slo named `name`, as its JSON text.
  std::string Slo(const std::string& name) {
    auto r = Fetch(port_, "GET", "/v1/slo");
    EXPECT_EQ(r.status, 200) << r.body;
    auto j = ParseJson(r.body);
    for (auto s : j->root["slos"].get_array()) {
      if (std::string_view(s["name"].get_string()) == name) {
        return std::string(simdjson::to_string(s));
      }
    }
    return "";
  }
  int64_t Field(const std::string& json, const char* key) {
    auto j = ParseJson(json);
    return static_cast<int64_t>(j->Num(key));
  }
};

TEST_F(SloTest, BurnRateAlertIsDeliveredKeptAcrossRestartAndResolved) {
  HttpSink sink;  // bound, not accepting yet: the webhook is down
  const std::string config = Config(sink.Url("/hook"));
  Start(config);

  for (int i = 0; i < 10; ++i) {
    auto r = Fetch(port_, "POST", "/v1/support/inquiries", R"({"text":"where is my card"})");
    ASSERT_EQ(r.status, 503) << r.body;
  }
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(Predict(R"({"model":"support-intent","text":"card"})").status, 200);
  }
  std::string availability = Slo("availability");
  ASSERT_FALSE(availability.empty());
  EXPECT_EQ(Field(availability, "requests"), 15) << availability;
  EXPECT_EQ(Field(availability, "bad"), 10) << availability;
  EXPECT_NE(availability.find(R"("rule":"page_fast","severity":"page")"), std::string::npos);
  EXPECT_NE(availability.find(R"("firing":true)"), std::string::npos) << availability;
  // 10 bad of 15 with 0.1% allowed: the budget is overspent.
  auto avail = ParseJson(availability);
  EXPECT_LT(double(avail->root["error_budget"]["remaining"]), 0);
  EXPECT_EQ(Field(Slo("latency"), "bad"), 0);  // everything answered within 1 s

  auto firing = Fetch(port_, "GET", "/v1/alerts?state=firing");
  ASSERT_EQ(firing.status, 200);
  auto alerts = ParseJson(firing.body);
  std::string page_fast_id;
  for (auto a : alerts->root["alerts"].get_array()) {
    EXPECT_EQ(std::string_view(a["name"].get_string()), "SloBurnRate");
    if (std::string_view(a["key"].get_string()) == "slo:availability:page_fast") {
      page_fast_id = std::string(std::string_view(a["id"].get_string()));
    }
  }
  ASSERT_FALSE(page_fast_id.empty()) << firing.body;
  EXPECT_NE(server_->Stderr().find("alert firing"), std::string::npos);

  // The webhook is down: failed attempts are counted, nothing is delivered yet.
  int64_t deadline_ms = 20000;
  bool failed_seen = false;
  for (int64_t waited = 0; waited < deadline_ms && !failed_seen; waited += 20) {
    auto m = Fetch(port_, "GET", "/metrics");
    failed_seen = m.body.find("closedloop_alert_webhook_deliveries_total{result=\"failed\"}") !=
                  std::string::npos;
    if (!failed_seen) poll(nullptr, 0, 20);
  }
  ASSERT_TRUE(failed_seen);
  sink.Script({500});  // up, but the first answer is an error: retried again
  sink.Listen();
  // Every firing alert reaches the webhook (the 500 is retried).
  size_t n_firing = alerts->root["alerts"].get_array().size();
  auto got = sink.WaitFor(n_firing + 1, std::chrono::seconds(20));
  ASSERT_GE(got.size(), n_firing + 1);
  EXPECT_EQ(got[0].answered, 500);
  bool delivered = false;
  for (const auto& r : got) {
    EXPECT_EQ(r.method, "POST");
    EXPECT_EQ(r.target, "/hook");
    if (r.answered == 200 && r.body.find(page_fast_id) != std::string::npos) {
      delivered = true;
      auto body = ParseJson(r.body);
      EXPECT_EQ(body->Str("status"), "firing");
      auto alert = body->root["alerts"].at(0);
      EXPECT_EQ(std::string_view(alert["labels"]["alertname"].get_string()), "SloBurnRate");
      EXPECT_EQ(std::string_view(alert["labels"]["slo"].get_string()), "availability");
    }
  }
  EXPECT_TRUE(delivered);

  // Restart: the alert is still firing (same id, not raised again) and the
  // budget still counts the 10 errors of the first run.
  server_->Signal(SIGTERM);
  ASSERT_EQ(server_->WaitExit(std::chrono::seconds(20)), 0);
  size_t before_restart = sink.Received().size();
  server_ = std::make_unique<ServerProcess>(UpArgs(dir_.path(), dir_.File("closedloop.toml")),
                                            dir_.File("stderr2.log"));
  ASSERT_TRUE(server_->WaitReady()) << server_->Stderr();
  port_ = server_->port();
  availability = Slo("availability");
  EXPECT_EQ(Field(availability, "bad"), 10) << availability;
  auto again = Fetch(port_, "GET", "/v1/alerts?state=firing");
  EXPECT_NE(again.body.find(page_fast_id), std::string::npos) << again.body;

  // 12,000 good answers bring every window under its factor: all alerts resolve.
  Connection conn(port_);
  ASSERT_TRUE(conn.connected());
  for (int i = 0; i < 12000; ++i) {
    auto r = conn.Request("POST", "/v1/predict", R"({"model":"support-intent","text":"card"})");
    ASSERT_EQ(r.status, 200) << r.body;
  }
  auto status = Slo("availability");
  EXPECT_EQ(status.find(R"("firing":true)"), std::string::npos) << status;
  auto open = Fetch(port_, "GET", "/v1/alerts?state=firing");
  EXPECT_NE(open.body.find(R"("alerts":[])"), std::string::npos) << open.body;
  auto resolved = Fetch(port_, "GET", "/v1/alerts?state=resolved");
  EXPECT_NE(resolved.body.find(page_fast_id), std::string::npos) << resolved.body;
  auto after = sink.WaitFor(before_restart + n_firing, std::chrono::seconds(20));
  bool resolved_delivered = false;
  for (size_t i = before_restart; i < after.size(); ++i) {
    if (after[i].body.find(R"("status":"resolved")") != std::string::npos &&
        after[i].body.find(page_fast_id) != std::string::npos) {
      resolved_delivered = true;
    }
    // No second "firing" for an alert that survived the restart.
    EXPECT_EQ(after[i].body.find(R"("status":"firing")"), std::string::npos) << after[i].body;
  }
  EXPECT_TRUE(resolved_delivered);
}

TEST_F(SloTest, MonitorCommandShowsSlosAlertsAndDrift) {
  HttpSink sink;
  sink.Listen();
  Start(Config(sink.Url("/hook")));
  for (int i = 0; i < 8; ++i) {
    Fetch(port_, "POST", "/v1/support/inquiries", R"({"text":"where is my card"})");
  }
  for (int i = 0; i < 2; ++i) Predict(R"({"model":"support-intent","text":"card"})");
  const std::string url = " --url http://127.0.0.1:" + std::to_string(port_);
  auto once = RunClosedloop("monitor --once" + url);
  ASSERT_EQ(once.exit_code, 0) << once.output;
  EXPECT_NE(once.output.find("10 answered, 8 with 5xx"), std::string::npos) << once.output;
  EXPECT_NE(once.output.find("availability"), std::string::npos) << once.output;
  EXPECT_NE(once.output.find("latency <1000ms"), std::string::npos) << once.output;
  EXPECT_NE(once.output.find("page_fast"), std::string::npos) << once.output;
  EXPECT_NE(once.output.find("[page] SloBurnRate  availability SLO 99.9%"), std::string::npos)
      << once.output;
  EXPECT_NE(once.output.find("drift (latest report per model)"), std::string::npos);
  EXPECT_EQ(once.output.find("\x1b["), std::string::npos);  // no terminal codes with --once
  // Live mode: two frames, the second with a request rate.
  auto live = RunClosedloop("monitor --frames 2 --interval 0.2" + url);
  ASSERT_EQ(live.exit_code, 0) << live.output;
  EXPECT_NE(live.output.find("req/s"), std::string::npos) << live.output;

  HttpSink closed;  // bound, not listening: connection refused
  auto down =
      RunClosedloop("monitor --once --url http://127.0.0.1:" + std::to_string(closed.port()));
  EXPECT_EQ(down.exit_code, 2);
  auto bad = RunClosedloop("monitor --once --url https://x");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("--url"), std::string::npos) << bad.output;
}

TEST_F(SloTest, BadInputIsAClearError) {
  Start();
  auto r = Fetch(port_, "GET", "/v1/alerts?state=open");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("'state'"), std::string::npos) << r.body;
  r = Fetch(port_, "GET", "/v1/alerts?limit=0");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("limit"), std::string::npos) << r.body;
  // With no traffic every SLO has its full budget.
  auto slo = Slo("availability");
  EXPECT_EQ(Field(slo, "requests"), 0);
  EXPECT_NE(slo.find(R"("remaining":1)"), std::string::npos) << slo;

  WriteFile(dir_.File("bad.toml"), "[slo]\nlatency_threshold_ms = 150\n");
  auto bad = RunClosedloop("up --data-dir " + dir_.File("bad-data") + " --config " +
                           dir_.File("bad.toml") + " --listen 127.0.0.1:0 --no-demo");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("'slo.latency_threshold_ms' 150 is not a bound"), std::string::npos)
      << bad.output;
  WriteFile(dir_.File("bad2.toml"), "[alerts]\nwebhooks = [\"https://example.com/hook\"]\n");
  bad = RunClosedloop("up --data-dir " + dir_.File("bad-data") + " --config " +
                      dir_.File("bad2.toml") + " --listen 127.0.0.1:0 --no-demo");
  EXPECT_NE(bad.exit_code, 0);
  EXPECT_NE(bad.output.find("'alerts.webhooks'"), std::string::npos) << bad.output;
}

}  // namespace
}  // namespace closedloop::testing
