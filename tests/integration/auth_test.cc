// Authentication through the real binary: with [auth] enabled every route but
// health needs credentials; JWTs from `closedloop token create` and from npm
// `jsonwebtoken` (RS256 and HS256) are accepted; API keys from `closedloop keys`
// work as Bearer or X-Api-Key and stop working when revoked; missing scopes are
// 403; bad tokens 401 with WWW-Authenticate, the server staying up.
#include <openssl/evp.h>
#include <openssl/pem.h>

#include "integration/fixture.h"
#include "support/command.h"

namespace closedloop::testing {
namespace {

class AuthTest : public ServerFixture {
 protected:
  HttpResult Call(const std::string& method, const std::string& path, const std::string& header,
                  const std::string& value, const std::string& body = "") {
    std::vector<std::pair<std::string, std::string>> h = {{"Content-Type", "application/json"}};
    if (!header.empty()) h.emplace_back(header, value);
    return Fetch(port_, method, path, body, h);
  }
  HttpResult PredictAs(const std::string& bearer) {
    return Call("POST", "/v1/predict", "Authorization", "Bearer " + bearer,
                R"({"model":"support-intent","text":"card"})");
  }
  std::string Node(const std::string& args) {
    auto r = RunCommand("node " + std::string(CLOSEDLOOP_SOURCE_DIR_FOR_TESTS) +
                        "/tests/js/sign_jwt.js " + args);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return r.output;
  }
};

TEST_F(AuthTest, CredentialsScopesAndIndependentTokens) {
  // An RSA key pair for RS256 tokens minted by jsonwebtoken.
  EVP_PKEY* rsa = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
  ASSERT_NE(rsa, nullptr);
  for (bool priv : {true, false}) {
    FILE* f = fopen(dir_.File(priv ? "rsa.key" : "rsa.pub").c_str(), "w");
    ASSERT_NE(f, nullptr);
    if (priv) {
      PEM_write_PrivateKey(f, rsa, nullptr, nullptr, 0, nullptr, nullptr);
    } else {
      PEM_write_PUBKEY(f, rsa);
    }
    fclose(f);
  }
  EVP_PKEY_free(rsa);
  // `token create` makes the data dir's HS256 secret on first use.
  auto minted = RunClosedloop("token create --data-dir " + dir_.path() +
                              " --subject alice --scope predict,feedback --ttl 1h");
  ASSERT_EQ(minted.exit_code, 0) << minted.output;
  const std::string alice = minted.output.substr(0, minted.output.find('\n'));
  Start(std::string(kTestConfig) + "[auth]\nenabled = true\njwt_rs256_public_key_file = \"" +
        dir_.File("rsa.pub") + "\"\n");

  // No credentials: 401 with the challenge; health stays open.
  auto none = Fetch(port_, "POST", "/v1/predict", R"({"model":"support-intent","text":"card"})");
  EXPECT_EQ(none.status, 401) << none.body;
  EXPECT_EQ(none.Header("WWW-Authenticate"), "Bearer realm=\"closedloop\"");
  EXPECT_EQ(Fetch(port_, "GET", "/v2/health/ready").status, 200);
  EXPECT_EQ(Fetch(port_, "GET", "/metrics").status, 401);

  auto ok = PredictAs(alice);
  ASSERT_EQ(ok.status, 200) << ok.body;
  // A scope alice lacks: 403 naming it.
  auto forbidden = Call("GET", "/v1/rollouts", "Authorization", "Bearer " + alice);
  EXPECT_EQ(forbidden.status, 403) << forbidden.body;
  EXPECT_NE(forbidden.Header("WWW-Authenticate").find("error=\"insufficient_scope\""),
            std::string::npos);
  EXPECT_NE(forbidden.body.find("lacks the scope 'admin'"), std::string::npos) << forbidden.body;

  // Tokens from an independent implementation: RS256 and HS256.
  EXPECT_EQ(PredictAs(Node(dir_.File("rsa.key") + " RS256 js-rs predict")).status, 200);
  EXPECT_EQ(PredictAs(Node(dir_.File("auth/jwt-hs256.key") + " HS256 js-hs predict")).status, 200);
  // Algorithm confusion: HS256 signed with the RSA public key as the secret.
  auto confused = PredictAs(Node(dir_.File("rsa.pub") + " HS256 mallory admin"));
  EXPECT_EQ(confused.status, 401) << confused.body;
  EXPECT_NE(confused.Header("WWW-Authenticate").find("error=\"invalid_token\""), std::string::npos);
  // Expired (jsonwebtoken with a negative lifetime), garbage, oversized: 401, server up.
  EXPECT_EQ(PredictAs(Node(dir_.File("auth/jwt-hs256.key") + " HS256 late predict -120")).status,
            401);
  EXPECT_EQ(PredictAs("not.a.token").status, 401);
  EXPECT_EQ(Call("GET", "/v1/models", "Authorization", "Basic YWxpY2U6eA==").status, 401);
  EXPECT_EQ(PredictAs(std::string(100 * 1024, 'x')).status, 431);  // over the header limit
  EXPECT_EQ(PredictAs(std::string(9000, 'x')).status, 401);

  // API keys: created by the CLI, sent as Bearer or X-Api-Key, revoked.
  auto key =
      RunClosedloop("keys create --data-dir " + dir_.path() + " --name dashboard --scope metrics");
  ASSERT_EQ(key.exit_code, 0) << key.output;
  const std::string dashboard = key.output.substr(0, key.output.find('\n'));
  EXPECT_EQ(Call("GET", "/metrics", "X-Api-Key", dashboard).status, 200);
  EXPECT_EQ(Call("GET", "/v1/slo", "Authorization", "Bearer " + dashboard).status, 200);
  EXPECT_EQ(Call("POST", "/v1/predict", "X-Api-Key", dashboard,
                 R"({"model":"support-intent","text":"card"})")
                .status,
            403);
  auto second =
      RunClosedloop("keys create --data-dir " + dir_.path() + " --name ci --scope predict");
  const std::string ci = second.output.substr(0, second.output.find('\n'));
  auto list = RunClosedloop("keys list --data-dir " + dir_.path());
  EXPECT_NE(list.output.find("dashboard"), std::string::npos) << list.output;
  EXPECT_EQ(list.output.find(ci.substr(17)), std::string::npos);  // never the secret
  ASSERT_EQ(
      RunClosedloop("keys revoke --data-dir " + dir_.path() + " " + ci.substr(4, 12)).exit_code, 0);
  auto revoked = PredictAs(ci);
  EXPECT_EQ(revoked.status, 401) << revoked.body;
  EXPECT_NE(revoked.body.find("revoked"), std::string::npos) << revoked.body;

  auto metrics = Call("GET", "/metrics", "X-Api-Key", dashboard);
  EXPECT_NE(metrics.body.find(R"(closedloop_auth_failures_total{reason="forbidden"})"),
            std::string::npos);
  EXPECT_EQ(PredictAs(alice).status, 200);  // still serving
}

TEST_F(AuthTest, CliRefusesBadInput) {
  auto ttl = RunClosedloop("token create --data-dir " + dir_.path() + " --subject a --ttl 5y");
  EXPECT_EQ(ttl.exit_code, 2);
  EXPECT_NE(ttl.output.find("--ttl"), std::string::npos) << ttl.output;
  auto scope =
      RunClosedloop("token create --data-dir " + dir_.path() + " --subject a --scope root");
  EXPECT_EQ(scope.exit_code, 2);
  EXPECT_NE(scope.output.find("unknown scope 'root'"), std::string::npos) << scope.output;
  auto key = RunClosedloop("keys create --data-dir " + dir_.path() + " --name a --scope root");
  EXPECT_EQ(key.exit_code, 2);
  auto revoke = RunClosedloop("keys revoke --data-dir " + dir_.path() + " nosuchkey");
  EXPECT_EQ(revoke.exit_code, 1);
  EXPECT_NE(revoke.output.find("no active API key"), std::string::npos) << revoke.output;
}

}  // namespace
}  // namespace closedloop::testing
