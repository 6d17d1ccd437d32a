// The gateway role through the real binaries: `closedloop serve --role gateway`
// in front of `closedloop serve --role inference` replicas, real sockets, real
// SIGKILL. Forwarding and balancing, one trace across both processes, auth at the
// gateway, timeouts and dead upstreams, bad arguments, and the chaos run: a
// replica killed and restarted under steady load.
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <thread>

#include "integration/fixture.h"
#include "support/command.h"
#include "support/http_sink.h"

namespace closedloop::testing {
namespace {

constexpr const char* kPredictBody =
    R"({"model":"support-intent","text":"my card has not arrived"})";

// A replica: its own data dir with the test model, `serve --role inference`.
struct Replica {
  explicit Replica(const std::string& config = kTestConfig) {
    InstallTestModel(dir.path());
    WriteFile(dir.File("closedloop.toml"), config);
    Launch("127.0.0.1:0");
  }
  void Launch(const std::string& listen) {
    process = std::make_unique<ServerProcess>(
        std::vector<std::string>{"serve", "--role", "inference", "--listen", listen, "--data-dir",
                                 dir.path(), "--workers", "1", "--config",
                                 dir.File("closedloop.toml")},
        dir.File("stderr.log"));
    ASSERT_TRUE(process->WaitReady()) << process->Stderr();
    port = process->port();
  }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port); }
  std::string Name() const { return "127.0.0.1:" + std::to_string(port); }
  TempDir dir;
  std::unique_ptr<ServerProcess> process;
  int port = 0;
};

// The gateway's config: quick health checks and breakers; `gateway_lines`
// (TOML "key = value" lines of [gateway]) replace the defaults they name.
std::string GatewayConfig(const std::string& gateway_lines = "") {
  std::string out = "[server]\ndrain_timeout_ms = 2000\n[gateway]\n" + gateway_lines;
  for (const char* line :
       {"health_interval_ms = 100", "health_timeout_ms = 300", "try_timeout_ms = 1000",
        "timeout_ms = 3000", "breaker_open_ms = 100", "breaker_max_open_ms = 1000"}) {
    const std::string key = std::string(line).substr(0, std::string(line).find(' '));
    if (gateway_lines.find(key + " =") == std::string::npos) out += std::string(line) + "\n";
  }
  return out;
}

struct Gateway {
  // `data_dir`: where auth.db is ("" = a fresh one).
  Gateway(const std::vector<std::string>& upstreams, const std::string& config = GatewayConfig(),
          const std::string& data_dir = "") {
    WriteFile(dir.File("gateway.toml"), config);
    std::vector<std::string> args = {"serve",
                                     "--role",
                                     "gateway",
                                     "--listen",
                                     "127.0.0.1:0",
                                     "--workers",
                                     "2",
                                     "--data-dir",
                                     data_dir.empty() ? dir.path() : data_dir,
                                     "--config",
                                     dir.File("gateway.toml")};
    for (const auto& u : upstreams) {
      args.push_back("--upstream");
      args.push_back(u);
    }
    process = std::make_unique<ServerProcess>(args, dir.File("stderr.log"));
    ready = process->WaitReady();
    port = process->port();
  }
  TempDir dir;
  std::unique_ptr<ServerProcess> process;
  bool ready = false;
  int port = 0;
};

// The value of one series in a Prometheus text page; 0 when absent.
double Metric(const std::string& page, const std::string& series) {
  std::istringstream in(page);
  std::string line;
  while (std::getline(in, line)) {
    if (line.size() > series.size() && line.compare(0, series.size(), series) == 0 &&
        line[series.size()] == ' ') {
      return std::strtod(line.c_str() + series.size() + 1, nullptr);
    }
  }
  return 0;
}

double UpstreamMetric(int gateway_port, const std::string& family, const std::string& upstream,
                      const std::string& more = "") {
  auto page = Fetch(gateway_port, "GET", "/metrics").body;
  return Metric(page, family + "{upstream=\"" + upstream + "\"" + more + "}");
}

// Polls `pred` until it holds or `deadline` passes.
template <typename Pred>
bool Eventually(Pred pred, std::chrono::milliseconds deadline = std::chrono::seconds(15)) {
  const auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (pred()) return true;
    poll(nullptr, 0, 20);
  }
  return pred();
}

TEST(GatewayTest, ForwardsOverPooledConnectionsAndBalances) {
  Replica a, b;
  Gateway gw({a.Url(), b.Url()});
  ASSERT_TRUE(gw.ready) << gw.process->Stderr();
  EXPECT_EQ(Fetch(gw.port, "GET", "/v2/health/ready").status, 200);

  Connection c(gw.port);
  for (int i = 0; i < 60; ++i) {
    auto r = c.Request("POST", "/v1/predict", kPredictBody);
    ASSERT_EQ(r.status, 200) << r.body;
    // The id the replica logged the prediction under, for feedback; and the gateway's own.
    auto j = ParseJson(r.body);
    EXPECT_EQ(std::string(std::string_view(j->root["request_id"].get_string())),
              r.Header("x-request-id"));
    EXPECT_EQ(r.Header("x-gateway-request-id").size(), 26u);
    EXPECT_NE(r.Header("x-gateway-request-id"), r.Header("x-request-id"));
  }
  // Errors of the replica come back as they are; a body is forwarded.
  auto missing = c.Request("POST", "/v1/predict", R"({"model":"nope","text":"x"})");
  EXPECT_EQ(missing.status, 404) << missing.body;
  EXPECT_NE(missing.body.find("nope"), std::string::npos) << missing.body;
  auto models = c.Request("GET", "/v2/models/support-intent");
  EXPECT_EQ(models.status, 200) << models.body;

  // Both replicas took a share; sequential requests find one outstanding at most.
  const double on_a =
      UpstreamMetric(gw.port, "closedloop_upstream_requests_total", a.Name(), ",code=\"2xx\"");
  const double on_b =
      UpstreamMetric(gw.port, "closedloop_upstream_requests_total", b.Name(), ",code=\"2xx\"");
  EXPECT_GE(on_a, 20) << on_a << " / " << on_b;
  EXPECT_GE(on_b, 20) << on_a << " / " << on_b;
  EXPECT_EQ(UpstreamMetric(gw.port, "closedloop_upstream_breaker_state", a.Name()), 0);
  EXPECT_EQ(UpstreamMetric(gw.port, "closedloop_upstream_healthy", b.Name()), 1);
  // Keep-alive: 60+ requests reached each replica over a handful of connections
  // (health checks open their own, one per check).
  auto page_a = Fetch(a.port, "GET", "/metrics").body;
  const double predicts_a = Metric(
      page_a,
      R"(closedloop_requests_total{route="/v1/predict",method="POST",model="support-intent",version="1",code="200"})");
  const double health_checks_a = Metric(
      page_a,
      R"(closedloop_requests_total{route="/v2/health/ready",method="GET",model="",version="",code="200"})");
  const double connections_a = Metric(page_a, "closedloop_http_connections_total");
  EXPECT_EQ(predicts_a, on_a);
  EXPECT_LE(connections_a, health_checks_a + 3) << page_a;
}

TEST(GatewayTest, BinaryTensorBodiesPassThroughBothWays) {
  Replica a;
  Gateway gw({a.Url()});
  ASSERT_TRUE(gw.ready) << gw.process->Stderr();
  // OIP binary tensor data: JSON header, then one BYTES element (4-byte LE length + bytes).
  const std::string text = "my card has not arrived";
  const std::string header =
      R"({"inputs":[{"name":"text","shape":[1],"datatype":"BYTES","parameters":)"
      R"({"binary_data_size":)" +
      std::to_string(4 + text.size()) + R"(}}],"parameters":{"binary_data_output":true}})";
  std::string body = header;
  body.push_back(static_cast<char>(text.size()));
  body.append(3, '\0');
  body += text;
  const std::vector<std::pair<std::string, std::string>> headers = {
      {"Content-Type", "application/octet-stream"},
      {"Inference-Header-Content-Length", std::to_string(header.size())}};
  auto direct = Fetch(a.port, "POST", "/v2/models/support-intent/infer", body, headers);
  ASSERT_EQ(direct.status, 200) << direct.body;
  auto via = Fetch(gw.port, "POST", "/v2/models/support-intent/infer", body, headers);
  ASSERT_EQ(via.status, 200) << via.body;
  const std::string length = via.Header("Inference-Header-Content-Length");
  ASSERT_FALSE(length.empty());
  EXPECT_EQ(length, direct.Header("Inference-Header-Content-Length"));
  EXPECT_EQ(via.Header("Content-Type"), "application/octet-stream");
  // The raw output bytes after the JSON header are the replica's, byte for byte.
  const size_t n = std::stoul(length);
  ASSERT_GT(via.body.size(), n);
  EXPECT_EQ(via.body.substr(n), direct.body.substr(n));
  EXPECT_NE(via.body.find(R"("binary_data_size")"), std::string::npos) << via.body.substr(0, n);
}

TEST(GatewayTest, OneTraceAcrossGatewayAndReplica) {
  HttpSink collector;
  collector.Listen();
  const std::string tracing = "[tracing]\notlp_endpoint = \"" + collector.Url("/v1/traces") +
                              "\"\nexport_interval_ms = 50\n";
  Replica a(std::string(kTestConfig) + tracing);
  Gateway gw({a.Url()}, GatewayConfig() + tracing);
  ASSERT_TRUE(gw.ready) << gw.process->Stderr();

  const std::string caller_trace = "4bf92f3577b34da6a3ce929d0e0e4736";
  auto r = Fetch(gw.port, "POST", "/v1/predict", kPredictBody,
                 {{"Content-Type", "application/json"},
                  {"traceparent", "00-" + caller_trace + "-00f067aa0ba902b7-01"}});
  ASSERT_EQ(r.status, 200) << r.body;
  const std::string tp = r.Header("traceparent");
  ASSERT_EQ(tp.substr(3, 32), caller_trace) << tp;
  const std::string gateway_span = tp.substr(36, 16);

  // The gateway's server span (parent: the caller), its upstream stage span, and
  // the replica's server span whose parent is the gateway's span.
  bool gateway_server = false, upstream_stage = false, replica_server = false;
  ASSERT_TRUE(Eventually([&] {
    for (const auto& req : collector.Received()) {
      auto j = ParseJson(req.body);
      for (auto s : j->root["resourceSpans"].at(0)["scopeSpans"].at(0)["spans"].get_array()) {
        auto str = [&](const char* k) {
          std::string_view v;
          return s[k].get(v) ? std::string() : std::string(v);
        };
        if (str("traceId") != caller_trace) continue;
        if (str("spanId") == gateway_span && str("parentSpanId") == "00f067aa0ba902b7") {
          gateway_server = true;
        }
        if (str("name") == "upstream" && str("parentSpanId") == gateway_span) {
          upstream_stage = true;
        }
        if (str("parentSpanId") == gateway_span && str("name") != "upstream" &&
            s["kind"].get_int64().value() == 2) {
          replica_server = true;
        }
      }
    }
    return gateway_server && upstream_stage && replica_server;
  })) << gateway_server
      << upstream_stage << replica_server;
}

TEST(GatewayTest, AuthenticatesBeforeForwarding) {
  Replica a;
  TempDir keys_dir;
  auto created =
      RunClosedloop("keys create --data-dir " + keys_dir.path() + " --name app --scope predict");
  ASSERT_EQ(created.exit_code, 0) << created.output;
  const std::string key = created.output.substr(0, created.output.find('\n'));
  Gateway gw({a.Url()},
             GatewayConfig() +
                 "[auth]\nenabled = true\npublic_metrics = true\n[audit]\nenabled = true\n"
                 "[rate_limit]\nper_ip_rate = 1000\nper_ip_burst = 1000\n",
             keys_dir.path());
  ASSERT_TRUE(gw.ready) << gw.process->Stderr();
  auto anonymous = Fetch(gw.port, "POST", "/v1/predict", kPredictBody);
  EXPECT_EQ(anonymous.status, 401) << anonymous.body;
  EXPECT_NE(anonymous.Header("www-authenticate").find("Bearer"), std::string::npos);
  auto admin_route =
      Fetch(gw.port, "GET", "/api/2.0/mlflow/experiments/search", "", {{"X-Api-Key", key}});
  EXPECT_EQ(admin_route.status, 403) << admin_route.body;  // the path decides the scope
  auto ok = Fetch(gw.port, "POST", "/v1/predict", kPredictBody,
                  {{"Content-Type", "application/json"}, {"X-Api-Key", key}});
  EXPECT_EQ(ok.status, 200) << ok.body;
  // The gateway's rate-limit fields come with the replica's answer.
  EXPECT_EQ(ok.Header("ratelimit-limit"), "1000");
  EXPECT_FALSE(ok.Header("ratelimit-remaining").empty());
  EXPECT_FALSE(ok.Header("x-request-id").empty());
  EXPECT_EQ(Fetch(gw.port, "GET", "/v2/health/ready").status, 200);  // public
  // Only the authenticated request reached the replica.
  EXPECT_EQ(
      UpstreamMetric(gw.port, "closedloop_upstream_requests_total", a.Name(), ",code=\"2xx\""), 1);
  // The gateway's audit log has the forwarded request under its principal.
  gw.process->Signal(SIGTERM);
  ASSERT_EQ(gw.process->WaitExit(std::chrono::seconds(20)), 0) << gw.process->Stderr();
  std::ifstream audit(keys_dir.File("audit/audit.log"));
  int forwarded = 0, refused = 0;
  for (std::string line; std::getline(audit, line);) {
    auto j = ParseJson(line);
    if (j->Str("path") != "/v1/predict") continue;
    if (j->Num("status") == 200 && j->Str("principal") == "app") ++forwarded;
    if (j->Num("status") == 401 && j->Str("principal").empty()) ++refused;
  }
  EXPECT_EQ(forwarded, 1);
  EXPECT_EQ(refused, 1);
}

TEST(GatewayTest, AConnectionTheReplicaClosedWhileIdleIsTriedAgainOnANewOne) {
  Replica a;  // closes idle keep-alive connections after 400 ms (header_timeout_ms)
  Gateway gw({a.Url()});
  ASSERT_TRUE(gw.ready) << gw.process->Stderr();
  Connection c(gw.port);
  ASSERT_EQ(c.Request("POST", "/v1/predict", kPredictBody).status, 200);
  // The replica closes the gateway's pooled connection (a timeout on its side) ...
  ASSERT_TRUE(Eventually(
      [&] {
        return Metric(Fetch(a.port, "GET", "/metrics").body,
                      "closedloop_http_connection_errors_total") >= 1;
      },
      std::chrono::seconds(5)));
  // ... and within the second in which the gateway reuses it unchecked, the next
  // request fails on it, is tried again on a new connection, and succeeds: with
  // one upstream there is no other to retry on.
  auto r = c.Request("POST", "/v1/predict", kPredictBody);
  EXPECT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(
      UpstreamMetric(gw.port, "closedloop_upstream_errors_total", a.Name(), ",kind=\"stale\""), 1);
  EXPECT_EQ(UpstreamMetric(gw.port, "closedloop_upstream_breaker_state", a.Name()), 0);
}

// The npm `ws` client (tests/js/ws_client.js) against `port`'s /v1/stream: its lines.
std::vector<std::string> StreamClient(int port, const std::string& key,
                                      const std::vector<std::string>& messages) {
  std::string cmd = "node " + std::string(CLOSEDLOOP_SOURCE_DIR_FOR_TESTS) +
                    "/tests/js/ws_client.js ws://127.0.0.1:" + std::to_string(port) +
                    "/v1/stream " + (key.empty() ? "-" : key) + " messages";
  for (const auto& m : messages) cmd += " '" + m + "'";
  auto r = RunCommand(cmd);
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::vector<std::string> lines;
  std::istringstream in(r.output);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

TEST(GatewayTest, WebSocketStreamIsRelayedMessageByMessage) {
  Replica a, b;
  TempDir keys_dir;
  auto created =
      RunClosedloop("keys create --data-dir " + keys_dir.path() + " --name app --scope predict");
  ASSERT_EQ(created.exit_code, 0) << created.output;
  const std::string key = created.output.substr(0, created.output.find('\n'));
  Gateway gw({a.Url(), b.Url()},
             GatewayConfig() + "[auth]\nenabled = true\npublic_metrics = true\n", keys_dir.path());
  ASSERT_TRUE(gw.ready) << gw.process->Stderr();

  // Authenticated at the upgrade, by the gateway.
  auto refused = StreamClient(gw.port, "", {R"({"id":"x","model":"support-intent","text":"x"})"});
  ASSERT_FALSE(refused.empty());
  EXPECT_EQ(refused[0], "http 401");

  // Each message is its own predict on a replica; answers in message order, in the
  // replica's format; bad messages are answered by the gateway and the stream goes on.
  std::vector<std::string> messages;
  for (int i = 0; i < 10; ++i) {
    messages.push_back(R"({"id":"m)" + std::to_string(i) +
                       R"(","model":"support-intent","text":"my card has not arrived"})");
  }
  messages.push_back(R"({"id":7,"model":"nope","text":"x"})");
  messages.push_back(R"({"model":"support-intent","text":"x"})");
  messages.push_back(R"({"id":"c","model":"support-intent","text":"refund please","top_k":1})");
  auto lines = StreamClient(gw.port, key, messages);
  ASSERT_EQ(lines.size(), messages.size() + 2) << ::testing::PrintToString(lines);
  EXPECT_EQ(lines.front(), "open");
  EXPECT_EQ(lines.back(), "close 1000");
  auto reply = [&](size_t i) { return ParseJson(lines[i + 1].substr(6)); };
  for (int i = 0; i < 10; ++i) {
    auto r = reply(i);
    EXPECT_EQ(r->Str("id"), "m" + std::to_string(i));
    EXPECT_EQ(r->Num("status"), 200) << lines[i + 1];
    EXPECT_FALSE(r->Str("label").empty());
  }
  auto missing = reply(10);
  EXPECT_EQ(missing->Num("id"), 7);
  EXPECT_EQ(missing->Num("status"), 404);  // the replica's answer
  EXPECT_NE(missing->Str("error").find("nope"), std::string::npos);
  EXPECT_EQ(reply(11)->Num("status"), 400);  // the gateway's: no id
  EXPECT_NE(reply(11)->Str("error").find("'id'"), std::string::npos);
  auto c = reply(12);
  EXPECT_EQ(c->Str("id"), "c");
  EXPECT_EQ(c->Num("status"), 200);

  // Every answered message is a prediction one of the replicas logged.
  const std::string id(c->Str("request_id"));
  bool stored = false;
  for (int i = 0; i < 100 && !stored; ++i) {
    for (int port : {a.port, b.port}) {
      auto r = Fetch(port, "GET", "/v1/predictions/" + id);
      if (r.status == 200) {
        stored = true;
        EXPECT_EQ(ParseJson(r.body)->Str("input_text"), "refund please");
      }
    }
  }
  EXPECT_TRUE(stored) << id;
  // Balanced message by message over both replicas, through the proxy's metrics.
  const double on_a =
      UpstreamMetric(gw.port, "closedloop_upstream_requests_total", a.Name(), ",code=\"2xx\"");
  const double on_b =
      UpstreamMetric(gw.port, "closedloop_upstream_requests_total", b.Name(), ",code=\"2xx\"");
  EXPECT_EQ(on_a + on_b, 11);
  EXPECT_GE(on_a, 1);
  EXPECT_GE(on_b, 1);
  auto page = Fetch(gw.port, "GET", "/metrics").body;
  EXPECT_NE(page.find("closedloop_websocket_messages_total 13"), std::string::npos) << page;
  // A plain GET is told to upgrade, by the gateway itself.
  auto plain = Fetch(gw.port, "GET", "/v1/stream", "", {{"X-Api-Key", key}});
  EXPECT_EQ(plain.status, 426);

  // A replica gone without notice: its messages are retried on the other one.
  b.process->Signal(SIGKILL);
  b.process->WaitExit(std::chrono::seconds(10));
  auto after =
      StreamClient(gw.port, key, std::vector<std::string>(messages.begin(), messages.begin() + 10));
  ASSERT_EQ(after.size(), 12u) << ::testing::PrintToString(after);
  for (size_t i = 1; i <= 10; ++i) {
    EXPECT_EQ(ParseJson(after[i].substr(6))->Num("status"), 200) << after[i];
  }
}

// A port that accepts connections (the kernel's backlog) and never answers.
class SilentListener {
 public:
  SilentListener() {
    fd_ = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    listen(fd_, 64);
    socklen_t len = sizeof addr;
    getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentListener() { close(fd_); }
  std::string Url() const { return "http://127.0.0.1:" + std::to_string(port_); }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST(GatewayTest, HungUpstreamTimesOutAndDeadOneOpensItsBreaker) {
  SilentListener silent;
  Gateway hung({silent.Url()}, GatewayConfig("try_timeout_ms = 300\n"));
  ASSERT_TRUE(hung.ready) << hung.process->Stderr();
  // Not ready (its only upstream fails the health check), but it still tries.
  EXPECT_EQ(Fetch(hung.port, "GET", "/v2/health/ready").status, 503);
  auto slow = Fetch(hung.port, "POST", "/v1/predict", kPredictBody);
  EXPECT_EQ(slow.status, 504) << slow.body;
  EXPECT_NE(slow.body.find("timed out"), std::string::npos) << slow.body;

  // A port nobody listens on: connection refused.
  int dead_port = 0;
  {
    Replica gone;
    dead_port = gone.port;
    gone.process->Signal(SIGKILL);
    gone.process->WaitExit(std::chrono::seconds(10));
  }
  const std::string dead = "127.0.0.1:" + std::to_string(dead_port);
  Gateway gw({"http://" + dead},
             GatewayConfig("breaker_consecutive_failures = 3\nbreaker_open_ms = 60000\n"
                           "breaker_max_open_ms = 60000\n"));
  ASSERT_TRUE(gw.ready) << gw.process->Stderr();
  for (int i = 0; i < 3; ++i) {
    auto r = Fetch(gw.port, "POST", "/v1/predict", kPredictBody);
    EXPECT_EQ(r.status, 502) << r.body;
    EXPECT_NE(r.body.find(dead), std::string::npos) << r.body;
    EXPECT_NE(r.body.find("connect"), std::string::npos) << r.body;
  }
  auto refused = Fetch(gw.port, "POST", "/v1/predict", kPredictBody);
  EXPECT_EQ(refused.status, 503) << refused.body;
  EXPECT_EQ(refused.Header("retry-after"), "1");
  EXPECT_EQ(UpstreamMetric(gw.port, "closedloop_upstream_breaker_state", dead), 1);
  EXPECT_EQ(UpstreamMetric(gw.port, "closedloop_upstream_errors_total", dead, ",kind=\"connect\""),
            3);
}

TEST(GatewayTest, BadArgumentsAreRefusedByName) {
  auto none = RunClosedloop("serve --role gateway --listen 127.0.0.1:0");
  EXPECT_EQ(none.exit_code, 2) << none.output;
  EXPECT_NE(none.output.find("--upstream"), std::string::npos) << none.output;
  auto scheme = RunClosedloop("serve --role gateway --listen 127.0.0.1:0 --upstream ftp://x:1");
  EXPECT_EQ(scheme.exit_code, 2) << scheme.output;
  EXPECT_NE(scheme.output.find("upstream 'ftp://x:1'"), std::string::npos) << scheme.output;
  auto path =
      RunClosedloop("serve --role gateway --listen 127.0.0.1:0 --upstream http://127.0.0.1:9/v1");
  EXPECT_EQ(path.exit_code, 2) << path.output;
  EXPECT_NE(path.output.find("without a path"), std::string::npos) << path.output;
  auto twice = RunClosedloop(
      "serve --role gateway --listen 127.0.0.1:0 --upstream http://127.0.0.1:9 --upstream "
      "http://127.0.0.1:9");
  EXPECT_EQ(twice.exit_code, 2) << twice.output;
  EXPECT_NE(twice.output.find("listed twice"), std::string::npos) << twice.output;
  auto role = RunClosedloop("serve --role inference --upstream http://127.0.0.1:9");
  EXPECT_EQ(role.exit_code, 2) << role.output;
  EXPECT_NE(role.output.find("--role gateway"), std::string::npos) << role.output;
  TempDir dir;
  WriteFile(dir.File("bad.toml"), "[gateway]\nbreaker_failure_rate = 2\n");
  auto config = RunClosedloop("serve --role gateway --config " + dir.File("bad.toml") +
                              " --upstream http://127.0.0.1:9");
  EXPECT_EQ(config.exit_code, 2) << config.output;
  EXPECT_NE(config.output.find("gateway.breaker_failure_rate"), std::string::npos) << config.output;
}

// Chaos: steady load through the gateway onto two replicas; one is killed with
// SIGKILL and restarted on its port. The clients see at most 0.5% errors; the
// dead replica's breaker opens and closes again, all of it in the metrics.
TEST(GatewayTest, ChaosReplicaKilledAndRestartedUnderLoad) {
  Replica a, b;
  Gateway gw({a.Url(), b.Url()});
  ASSERT_TRUE(gw.ready) << gw.process->Stderr();

  std::atomic<bool> stop{false};
  std::atomic<int64_t> sent{0}, failed{0};
  std::vector<std::thread> clients;
  for (int t = 0; t < 4; ++t) {
    clients.emplace_back([&] {
      auto c = std::make_unique<Connection>(gw.port);
      while (!stop.load()) {
        auto r = c->Request("POST", "/v1/predict", kPredictBody);
        sent.fetch_add(1);
        if (r.status != 200) {
          failed.fetch_add(1);
          c = std::make_unique<Connection>(gw.port);
        }
      }
    });
  }
  auto wait_sent = [&](int64_t more) {
    const int64_t target = sent.load() + more;
    return Eventually([&] { return sent.load() >= target; }, std::chrono::seconds(30));
  };
  EXPECT_TRUE(wait_sent(2000));

  const int port_a = a.port;
  a.process->Signal(SIGKILL);
  a.process->WaitExit(std::chrono::seconds(10));
  EXPECT_TRUE(Eventually([&] {
    return UpstreamMetric(gw.port, "closedloop_upstream_breaker_transitions_total", a.Name(),
                          ",to=\"open\"") >= 1;
  })) << "the breaker of the killed replica never opened";
  EXPECT_TRUE(wait_sent(1000));  // served by b alone meanwhile
  const double a_before =
      UpstreamMetric(gw.port, "closedloop_upstream_requests_total", a.Name(), ",code=\"2xx\"");

  a.Launch("127.0.0.1:" + std::to_string(port_a));
  EXPECT_TRUE(Eventually([&] {
    return UpstreamMetric(gw.port, "closedloop_upstream_breaker_transitions_total", a.Name(),
                          ",to=\"closed\"") >= 1 &&
           UpstreamMetric(gw.port, "closedloop_upstream_breaker_state", a.Name()) == 0 &&
           UpstreamMetric(gw.port, "closedloop_upstream_requests_total", a.Name(),
                          ",code=\"2xx\"") > a_before + 100;
  })) << "the restarted replica did not take traffic again";
  EXPECT_TRUE(wait_sent(1000));
  stop = true;
  for (auto& t : clients) t.join();

  const double rate = static_cast<double>(failed.load()) / static_cast<double>(sent.load());
  RecordProperty("requests", std::to_string(sent.load()));
  RecordProperty("failed", std::to_string(failed.load()));
  std::cout << "chaos: " << sent.load() << " requests, " << failed.load() << " failed ("
            << rate * 100 << "%)\n";
  EXPECT_LE(rate, 0.005) << failed.load() << " of " << sent.load();
  auto page = Fetch(gw.port, "GET", "/metrics").body;
  EXPECT_GE(Metric(page, "closedloop_upstream_breaker_transitions_total{upstream=\"" + a.Name() +
                             "\",to=\"half_open\"}"),
            1);
  EXPECT_EQ(Metric(page, "closedloop_upstream_healthy{upstream=\"" + a.Name() + "\"}"), 1);
  // Tries did fail on the killed replica; their retries on the other one are why
  // the clients did not see them.
  EXPECT_GE(Metric(page, "closedloop_upstream_requests_total{upstream=\"" + a.Name() +
                             "\",code=\"error\"}"),
            1)
      << page;
  EXPECT_GE(Metric(page, "closedloop_gateway_retries_total{result=\"retried\"}"), 1) << page;
}

}  // namespace
}  // namespace closedloop::testing
