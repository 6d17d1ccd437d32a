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
  EXPECT_NE(
      metrics.body.find(R"(closedloop_rate_limited_total{route="/v1/predict",reason="ip"} 1)"),
      std::string::npos);
  EXPECT_NE(metrics.body.find(R"(closedloop_requests_total{route="/v1/predict",method="POST",)"
                              R"(model="",version="",code="429"} 1)"),
            std::string::npos);
}

// With [auth]: each principal has its own bucket — its rule, else its scopes'
// (roles), else the default — and an address that keeps sending invalid
// credentials is refused before authentication, even with a good key next.
TEST_F(RateLimitTest, PerPrincipalAndRoleLimitsAndFailedAuthThrottling) {
  auto key = [&](const std::string& name, const std::string& scope) {
    auto r = RunClosedloop("keys create --data-dir " + dir_.path() + " --name " + name +
                           " --scope " + scope);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return r.output.substr(0, r.output.find('\n'));
  };
  const std::string ci = key("ci", "predict"), batch = key("batch", "predict,feedback"),
                    other = key("other", "predict");
  Start(std::string(kTestConfig) +
        "[auth]\nenabled = true\n[rate_limit]\nper_principal_rate = 0.5\n"
        "per_principal_burst = 4\nfailed_auth_rate = 0.1\nfailed_auth_burst = 3\n"
        "[rate_limit.principals]\nci = { rate = 0.5, burst = 2 }\n"
        "[rate_limit.scopes]\nfeedback = { rate = 0.5, burst = 6 }\n");
  const std::string body = R"({"model":"support-intent","text":"card"})";
  auto as = [&](const std::string& k) {
    return Fetch(port_, "POST", "/v1/predict", body,
                 {{"Content-Type", "application/json"}, {"X-Api-Key", k}});
  };
  auto admitted = [&](const std::string& k) {
    int n = 0;
    while (n < 20 && as(k).status == 200) ++n;
    return n;
  };
  EXPECT_EQ(admitted(ci), 2);     // its own rule
  EXPECT_EQ(admitted(batch), 6);  // its role's (feedback scope)
  EXPECT_EQ(admitted(other), 4);  // the default per principal
  auto refused = as(ci);
  EXPECT_EQ(refused.status, 429);
  EXPECT_NE(refused.body.find("rate limit exceeded for principal ci"), std::string::npos)
      << refused.body;
  EXPECT_FALSE(refused.Header("retry-after").empty());

  // Three invalid keys use up the address's failed-auth budget: the next request is
  // 429 whatever it carries, until a token comes back (10 s at 0.1/s).
  for (int i = 0; i < 3; ++i) {
    EXPECT_EQ(as("clk_aaaaaaaaaaaa_" + std::string(40, 'b')).status, 401);
  }
  auto throttled = as(batch);
  EXPECT_EQ(throttled.status, 429) << throttled.body;
  EXPECT_NE(throttled.body.find("too many failed authentication attempts from 127.0.0.1"),
            std::string::npos)
      << throttled.body;
  EXPECT_EQ(throttled.Header("retry-after"), "10");
  EXPECT_EQ(Fetch(port_, "GET", "/v2/health/ready").status, 200);  // exempt
}

TEST_F(RateLimitTest, BadConfigIsRefusedByName) {
  Start();  // a data dir to point at
  WriteFile(dir_.File("bad.toml"), "[rate_limit]\nper_ip_rate = -1\n");
  auto r = RunClosedloop("up --no-demo --data-dir " + dir_.File("d2") + " --config " +
                         dir_.File("bad.toml") + " --listen 127.0.0.1:0");
  EXPECT_NE(r.exit_code, 0);
  EXPECT_NE(r.output.find("'rate_limit.per_ip_rate'"), std::string::npos) << r.output;
  WriteFile(dir_.File("bad2.toml"), "[rate_limit.principals]\nci = { rate = 0 }\n");
  auto rule = RunClosedloop("up --no-demo --data-dir " + dir_.File("d3") + " --config " +
                            dir_.File("bad2.toml") + " --listen 127.0.0.1:0");
  EXPECT_NE(rule.exit_code, 0);
  EXPECT_NE(rule.output.find("'rate_limit.principals.ci.rate'"), std::string::npos) << rule.output;
}

}  // namespace
}  // namespace closedloop::testing
