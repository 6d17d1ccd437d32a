// Prometheus for real: Debian's prometheus, started on loopback, scrapes the real
// binary with deploy/prometheus/closedloop_rules.yml loaded, and a closedloop
// metric is read back through Prometheus's HTTP API.
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "integration/fixture.h"

extern char** environ;

namespace closedloop::testing {
namespace {

int FreeLoopbackPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

class PrometheusTest : public ServerFixture {
 protected:
  void TearDown() override {
    if (pid_ > 0) {
      kill(pid_, SIGTERM);
      int status = 0;
      waitpid(pid_, &status, 0);
    }
  }
  pid_t pid_ = -1;
};

TEST_F(PrometheusTest, PrometheusScrapesClosedloopAndLoadsTheSloRules) {
  Start();
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(Predict(R"({"model":"support-intent","text":"card arrival"})").status, 200);
  }
  const int prom_port = FreeLoopbackPort();
  WriteFile(dir_.File("prometheus.yml"),
            "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\nrule_files:\n  - " +
                std::string(CLOSEDLOOP_SOURCE_DIR_FOR_TESTS) +
                "/deploy/prometheus/closedloop_rules.yml\nscrape_configs:\n  - job_name: "
                "closedloop\n    static_configs:\n      - targets: [\"127.0.0.1:" +
                std::to_string(port_) + "\"]\n");
  std::vector<std::string> args = {"prometheus", "--config.file=" + dir_.File("prometheus.yml"),
                                   "--storage.tsdb.path=" + dir_.File("tsdb"),
                                   "--web.listen-address=127.0.0.1:" + std::to_string(prom_port),
                                   "--log.level=warn"};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, dir_.File("prometheus.log").c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  ASSERT_EQ(posix_spawnp(&pid_, "prometheus", &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);

  // Wait (bounded) until a scrape has stored the prediction count.
  const std::string query =
      "/api/v1/"
      "query?query=closedloop_requests_total%7Broute%3D%22%2Fv1%2Fpredict%22%2Ccode%3D%22200%22%7D";
  std::string body;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = Fetch(prom_port, "GET", query);
    body = r.body;
    if (r.status == 200 && body.find(R"("value":[)") != std::string::npos) break;
    poll(nullptr, 0, 200);
  }
  ASSERT_NE(body.find(R"("__name__":"closedloop_requests_total")"), std::string::npos)
      << body << ReadFile(dir_.File("prometheus.log"));
  EXPECT_NE(body.find(R"("model":"support-intent")"), std::string::npos) << body;
  EXPECT_NE(body.find(R"(,"3"]})"), std::string::npos) << body;  // the three predictions
  // The SLO rules are loaded and evaluated: the availability SLI is 0 (no 5xx answers).
  std::string sli;
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    // Traffic while Prometheus watches: the request rate is not 0, so the SLI is a number.
    ASSERT_EQ(Predict(R"({"model":"support-intent","text":"card arrival"})").status, 200);
    sli =
        Fetch(prom_port, "GET", "/api/v1/query?query=closedloop%3Asli_errors%3Aratio_rate5m").body;
    if (sli.find(R"(,"0"]})") != std::string::npos) break;
    poll(nullptr, 0, 200);
  }
  EXPECT_NE(sli.find(R"("__name__":"closedloop:sli_errors:ratio_rate5m")"), std::string::npos)
      << sli;
  EXPECT_NE(sli.find(R"(,"0"]})"), std::string::npos) << sli;
}

}  // namespace
}  // namespace closedloop::testing
