// Per-client rate limits through the real binary: RateLimit-* headers on every
// limited route, 429 with Retry-After and a JSON error past the burst, health and
// metrics exempt, the refusals counted, the server unaffected.
#include "integration/fixture.h"
#include "support/command.h"

namespace closedloop::testing {
namespace {

class RateLimitTest : public ServerFixture {};

TEST_F(RateLimitTest, BurstThenTooManyRequests) {
  // 0.5 per second: within this test's few milliseconds no token comes back.
  Start(std::string(kTestConfig) + "[rate_limit]\nper_ip_rate = 0.5\nper_ip_burst = 3\n", true,
        {"--log-level", "debug"});
  const std::string body = R"({"model":"support-intent","text":"card"})";
  for (int i = 0; i < 3; ++i) {
    auto r = Predict(body);
    ASSERT_EQ(r.status, 200) << r.body;
    EXPECT_EQ(r.Header("RateLimit-Limit"), "3");
    EXPECT_EQ(r.Header("RateLimit-Remaining"), std::to_string(2 - i));
    EXPECT_FALSE(r.Header("RateLimit-Reset").empty());
  }
  auto refused = Predict(body);
  EXPECT_EQ(refused.status, 429) << refused.body;
  EXPECT_EQ(refused.Header("Retry-After"), "2");
  EXPECT_EQ(refused.Header("RateLimit-Remaining"), "0");
  EXPECT_NE(refused.body.find("rate limit exceeded for client 127.0.0.1"), std::string::npos)
      << refused.body;
  // Every limited route shares the client's bucket; health and metrics do not.
  EXPECT_EQ(Fetch(port_, "GET", "/v1/models").status, 429);
  EXPECT_EQ(Fetch(port_, "GET", "/v2/health/ready").status, 200);
  // The in-process gateway stage (admission checks) is a span of each request.
  EXPECT_NE(server_->Stderr().find("gateway_ms="), std::string::npos);
  auto metrics = Fetch(port_, "GET", "/metrics");
  ASSERT_EQ(metrics.status, 200);
  EXPECT_NE(metrics.body.find(R"(closedloop_rate_limited_total{route="/v1/predict"} 1)"),
            std::string::npos);
  EXPECT_NE(metrics.body.find(R"(closedloop_requests_total{route="/v1/predict",method="POST",)"
                              R"(model="",version="",code="429"} 1)"),
            std::string::npos);
}

TEST_F(RateLimitTest, BadConfigIsRefusedByName) {
  Start();  // a data dir to point at
  WriteFile(dir_.File("bad.toml"), "[rate_limit]\nper_ip_rate = -1\n");
  auto r = RunClosedloop("up --no-demo --data-dir " + dir_.File("d2") + " --config " +
                         dir_.File("bad.toml") + " --listen 127.0.0.1:0");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("'rate_limit.per_ip_rate'"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace closedloop::testing
