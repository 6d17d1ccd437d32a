// TLS through the real binary: `--tls-cert/--tls-key` with a self-signed
// certificate made in the test serve HTTPS (curl verifies it against that
// certificate) and WSS (npm ws), plain HTTP on the TLS port is refused without
// harming the server, and bad TLS flags are refused by name.
#include <cstdlib>

#include "integration/fixture.h"
#include "support/command.h"

namespace closedloop::testing {
namespace {

class TlsTest : public ServerFixture {
 protected:
  void MakeCertificate() {
    auto r = RunCommand(
        "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 "
        "-addext subjectAltName=IP:127.0.0.1 -keyout " +
        dir_.File("key.pem") + " -out " + dir_.File("cert.pem") + " 2>&1");
    ASSERT_EQ(r.exit_code, 0) << r.output;
  }
};

TEST_F(TlsTest, HttpsAndWssWithASelfSignedCertificate) {
  MakeCertificate();
  Start(std::string(kTestConfig), true,
        {"--tls-cert", dir_.File("cert.pem"), "--tls-key", dir_.File("key.pem")});
  EXPECT_NE(server_->Stdout().find("closedloop ready: https://127.0.0.1:"), std::string::npos);
  const std::string url = "https://127.0.0.1:" + std::to_string(port_);
  auto predicted =
      RunCommand("curl -sS --cacert " + dir_.File("cert.pem") + " " + url +
                 "/v1/predict -H 'Content-Type: application/json' "
                 "-d '{\"model\":\"support-intent\",\"text\":\"my card has not arrived\"}'");
  ASSERT_EQ(predicted.exit_code, 0) << predicted.output;
  auto j = ParseJson(predicted.output);
  ASSERT_NE(j, nullptr) << predicted.output;
  EXPECT_EQ(j->Str("model"), "support-intent");
  // Keep-alive over TLS: two requests on one connection.
  auto twice = RunCommand(
      "curl -sS -o /dev/null -o /dev/null -w '%{http_code} %{num_connects}\\n' "
      "--cacert " +
      dir_.File("cert.pem") + " " + url + "/v2/health/ready " + url + "/v2/health/live");
  EXPECT_EQ(twice.output, "200 1\n200 0\n") << twice.output;
  // An unknown certificate is refused by the client; plain HTTP gets no answer.
  EXPECT_NE(RunCommand("curl -sS " + url + "/v2/health/ready 2>&1").exit_code, 0);
  auto plain = Fetch(port_, "GET", "/v2/health/ready");
  EXPECT_EQ(plain.status, 0);
  // WSS with npm ws, trusting the test's certificate.
  auto wss = RunCommand("NODE_EXTRA_CA_CERTS=" + dir_.File("cert.pem") + " node " +
                        std::string(CLOSEDLOOP_SOURCE_DIR_FOR_TESTS) +
                        "/tests/js/ws_client.js wss://127.0.0.1:" + std::to_string(port_) +
                        "/v1/stream - messages "
                        "'{\"id\":1,\"model\":\"support-intent\",\"text\":\"card\"}'");
  ASSERT_EQ(wss.exit_code, 0) << wss.output;
  EXPECT_NE(wss.output.find("reply {\"id\":1,\"status\":200"), std::string::npos) << wss.output;
  EXPECT_NE(wss.output.find("close 1000"), std::string::npos) << wss.output;
  // The server is still serving.
  auto again = RunCommand("curl -sS -o /dev/null -w '%{http_code}' --cacert " +
                          dir_.File("cert.pem") + " " + url + "/v2/health/ready");
  EXPECT_EQ(again.output, "200");
}

TEST_F(TlsTest, BadTlsFlagsAreRefusedByName) {
  MakeCertificate();
  InstallTestModel(dir_.path());
  const std::string up =
      "up --insecure --no-demo --listen 127.0.0.1:0 --data-dir " + dir_.path() + " ";
  auto half = RunClosedloop(up + "--tls-cert " + dir_.File("cert.pem"));
  EXPECT_EQ(half.exit_code, 2) << half.output;
  EXPECT_NE(half.output.find("--tls-key"), std::string::npos) << half.output;
  auto swapped = RunClosedloop(up + "--tls-cert " + dir_.File("key.pem") + " --tls-key " +
                               dir_.File("cert.pem"));
  EXPECT_NE(swapped.exit_code, 0);
  EXPECT_NE(swapped.output.find("TLS certificate"), std::string::npos) << swapped.output;
}

}  // namespace
}  // namespace closedloop::testing
