// Health, readiness, model listing and /metrics (checked by the real promtool).
#include <cstdio>
#include <filesystem>

#include "integration/fixture.h"
#include "support/command.h"

namespace closedloop::testing {
namespace {

class MetricsHealthTest : public ServerFixture {};

// Runs `promtool check metrics` on the text; returns its exit code and output.
std::pair<int, std::string> Promtool(const std::string& metrics_text, const std::string& dir) {
  WriteFile(dir + "/metrics.txt", metrics_text);
  auto r = RunCommand("promtool check metrics < " + dir + "/metrics.txt");
  return {r.exit_code, r.output};
}

TEST_F(MetricsHealthTest, MetricsCoverTheServingPathAndPassPromtool) {
  Start();
  for (int i = 0; i < 5; ++i) {
    ASSERT_EQ(Predict(R"({"model":"support-intent","text":"card arrival"})").status, 200);
  }
  ASSERT_EQ(Predict(R"({"model":"support-intent","text":""})").status, 400);
  auto r = Fetch(port_, "GET", "/metrics");
  ASSERT_EQ(r.status, 200);
  EXPECT_EQ(r.Header("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  const std::string& m = r.body;
  for (const char* needle : {
           "closedloop_requests_total{route=\"/v1/predict\",method=\"POST\","
           "model=\"support-intent\",version=\"1\",code=\"200\"} 5",
           "closedloop_requests_total{route=\"/v1/predict\",method=\"POST\",model=\"\","
           "version=\"\",code=\"400\"} 1",
           "closedloop_request_duration_seconds_bucket{route=\"/v1/predict\",le=\"+Inf\"} 6",
           "closedloop_model_compute_seconds_count{model=\"support-intent\",version=\"1\"} 5",
           "closedloop_http_requests_in_flight ",
           "closedloop_prediction_log_queue_depth ",
           "closedloop_prediction_log_written_total ",
           "closedloop_prediction_log_dropped_total 0",
           "process_resident_memory_bytes ",
           "process_cpu_seconds_total ",
           "process_open_fds ",
           "closedloop_uptime_seconds ",
           "closedloop_model_versions{state=\"ready\"} 1",
       }) {
    EXPECT_NE(m.find(needle), std::string::npos) << "missing: " << needle;
  }
  auto [rc, out] = Promtool(m, dir_.path());
  EXPECT_EQ(rc, 0) << out;
}

TEST_F(MetricsHealthTest, LiveAndReady) {
  Start();
  auto live = Fetch(port_, "GET", "/v2/health/live");
  EXPECT_EQ(live.status, 200);
  EXPECT_EQ(live.body, "");  // the protocol: status code only
  auto ready = Fetch(port_, "GET", "/v2/health/ready");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, "");
}

TEST_F(MetricsHealthTest, NotReadyWithoutModels) {
  std::filesystem::create_directories(dir_.File("models"));
  Start(kTestConfig, /*install_model=*/false);
  EXPECT_EQ(Fetch(port_, "GET", "/v2/health/live").status, 200);
  auto ready = Fetch(port_, "GET", "/v2/health/ready");
  EXPECT_EQ(ready.status, 503);
  EXPECT_NE(ready.body.find("no model is loaded"), std::string::npos);
}

TEST_F(MetricsHealthTest, BrokenModelIsReportedOthersServe) {
  std::filesystem::create_directories(dir_.File("models/broken/1"));
  WriteFile(dir_.File("models/broken/1/config.toml"), "flavor = \"fasttext\"\n");
  WriteFile(dir_.File("models/broken/1/model.bin"), "not a model");
  std::filesystem::create_directories(dir_.File("models/weird/1"));
  WriteFile(dir_.File("models/weird/1/config.toml"), "flavor = \"pytorch\"\n");
  Start();
  EXPECT_EQ(Fetch(port_, "GET", "/v2/health/ready").status, 200);
  EXPECT_EQ(Predict(R"({"model":"support-intent","text":"card"})").status, 200);
  auto models = Fetch(port_, "GET", "/v1/models");
  ASSERT_EQ(models.status, 200);
  EXPECT_NE(models.body.find(R"("name":"broken","version":1,"state":"UNAVAILABLE")"),
            std::string::npos)
      << models.body;
  EXPECT_NE(models.body.find("not a fastText model"), std::string::npos);
  EXPECT_NE(models.body.find("unsupported flavor 'pytorch'"), std::string::npos);
  EXPECT_NE(models.body.find(R"("name":"support-intent","version":1,"state":"READY")"),
            std::string::npos);
  auto broken = Predict(R"({"model":"broken","text":"card"})");
  EXPECT_EQ(broken.status, 503);  // exists but no version loaded: not ready, not unknown
  EXPECT_NE(server_->Stderr().find("model failed to load"), std::string::npos);
  EXPECT_NE(
      Fetch(port_, "GET", "/metrics").body.find("closedloop_model_versions{state=\"failed\"} 2"),
      std::string::npos);
}

}  // namespace
}  // namespace closedloop::testing
