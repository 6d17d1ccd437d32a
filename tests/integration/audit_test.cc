// The audit log through the real binary: with [audit] enabled every answered
// request is one JSON line — refused ones too — naming the principal, the model
// version, the SHA-256 of the text (never the text) and the predicted label; the
// lines queued at SIGTERM are written before the process exits.
#include <csignal>
#include <fstream>

#include "core/sha256.h"
#include "integration/fixture.h"
#include "support/command.h"

namespace closedloop::testing {
namespace {

class AuditTest : public ServerFixture {};

TEST_F(AuditTest, EveryRequestIsALineWithPrincipalModelHashAndLabel) {
  auto created =
      RunClosedloop("keys create --data-dir " + dir_.path() + " --name ci --scope predict");
  ASSERT_EQ(created.exit_code, 0) << created.output;
  const std::string key = created.output.substr(0, created.output.find('\n'));
  Start(std::string(kTestConfig) + "[auth]\nenabled = true\n[audit]\nenabled = true\n");

  const std::string text = "my card has not arrived yet";
  const std::string body = R"({"model":"support-intent","text":")" + text + R"("})";
  auto refused = Fetch(port_, "POST", "/v1/predict", body);
  ASSERT_EQ(refused.status, 401);
  auto ok = Fetch(port_, "POST", "/v1/predict", body,
                  {{"Content-Type", "application/json"}, {"X-Api-Key", key}});
  ASSERT_EQ(ok.status, 200) << ok.body;
  auto answer = ParseJson(ok.body);

  server_->Signal(SIGTERM);
  ASSERT_EQ(server_->WaitExit(std::chrono::seconds(20)), 0) << server_->Stderr();
  std::ifstream in(dir_.File("audit/audit.log"));
  std::vector<std::string> lines;
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  ASSERT_EQ(lines.size(), 2u);
  auto first = ParseJson(lines[0]);
  EXPECT_EQ(first->Str("principal"), "");
  EXPECT_EQ(first->Num("status"), 401);
  EXPECT_EQ(first->Str("route"), "/v1/predict");
  EXPECT_EQ(first->Str("input_sha256"), Sha256Hex(body));  // refused before the model saw it
  auto second = ParseJson(lines[1]);
  EXPECT_EQ(second->Str("request_id"), ok.Header("x-request-id"));
  EXPECT_EQ(second->Str("principal"), "ci");
  EXPECT_EQ(second->Str("client_ip"), "127.0.0.1");
  EXPECT_EQ(second->Str("model"), "support-intent@1");
  EXPECT_EQ(second->Str("input_sha256"), Sha256Hex(text));  // the model's input
  EXPECT_EQ(second->Str("label"), answer->Str("label"));
  EXPECT_EQ(second->Num("status"), 200);
  EXPECT_GT(second->Num("latency_ms"), 0);
  EXPECT_EQ(lines[1].find(text), std::string::npos);  // never the raw text
}

TEST_F(AuditTest, BadAuditConfigIsRefusedByName) {
  InstallTestModel(dir_.path());
  WriteFile(dir_.File("bad.toml"), "[audit]\nenabled = true\nfsync = \"sometimes\"\n");
  auto r = RunClosedloop("up --no-demo --listen 127.0.0.1:0 --data-dir " + dir_.path() +
                         " --config " + dir_.File("bad.toml"));
  EXPECT_EQ(r.exit_code, 2) << r.output;
  EXPECT_NE(r.output.find("audit.fsync"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace closedloop::testing
