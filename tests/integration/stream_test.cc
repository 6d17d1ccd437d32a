// WebSocket predictions (/v1/stream) through the real binary, driven by a client
// from npm `ws` (an independent implementation): answers in order with the
// message's id, every answer a logged prediction, bad messages answered without
// closing, authentication at the upgrade, rate limits per message, close codes
// for binary and oversized messages, pings answered keep a quiet connection open
// and a peer that never answers them is dropped, and a client that does not read
// its replies pauses the connection's reading (backpressure) without losing any.
#include <regex>
#include <sstream>

#include "integration/fixture.h"
#include "support/command.h"

namespace closedloop::testing {
namespace {

class StreamTest : public ServerFixture {
 protected:
  std::vector<std::string> Client(const std::string& key, const std::string& mode_and_args) {
    auto r = RunCommand("node " + std::string(CLOSEDLOOP_SOURCE_DIR_FOR_TESTS) +
                        "/tests/js/ws_client.js ws://127.0.0.1:" + std::to_string(port_) +
                        "/v1/stream " + (key.empty() ? "-" : key) + " " + mode_and_args);
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::vector<std::string> lines;
    std::istringstream in(r.output);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
  }
  static std::string Quote(const std::string& s) { return "'" + s + "'"; }
};

TEST_F(StreamTest, MessagesAreAnsweredInOrderAndLogged) {
  Start(std::string(kTestConfig));
  auto lines = Client(
      "", "messages " + Quote(R"({"id":"a","model":"support-intent","text":"my card"})") + " " +
              Quote(R"({"id":7,"model":"nope","text":"x"})") + " " +
              Quote(R"({"model":"support-intent","text":"x"})") + " " + Quote("not json") + " " +
              Quote(R"({"id":"b","model":"support-intent","text":"refund",)"
                    R"("top_k":1,"extra":1})") +
              " " +
              Quote(R"({"id":"c","model":"support-intent@champion",)"
                    R"("text":"refund please","top_k":1})"));
  ASSERT_EQ(lines.size(), 8u);
  EXPECT_EQ(lines[0], "open");
  auto reply = [&](size_t i) { return ParseJson(lines[i].substr(6)); };
  auto a = reply(1);
  EXPECT_EQ(a->Str("id"), "a");
  EXPECT_EQ(a->Num("status"), 200);
  EXPECT_EQ(a->Str("model"), "support-intent");
  EXPECT_FALSE(a->Str("label").empty());
  auto missing = reply(2);
  EXPECT_EQ(missing->Num("id"), 7);
  EXPECT_EQ(missing->Num("status"), 404);
  EXPECT_NE(missing->Str("error").find("nope"), std::string::npos);
  EXPECT_EQ(reply(3)->Num("status"), 400);
  EXPECT_NE(reply(3)->Str("error").find("'id'"), std::string::npos);
  EXPECT_NE(reply(4)->Str("error").find("not JSON"), std::string::npos);
  EXPECT_NE(reply(5)->Str("error").find("unknown field 'extra'"), std::string::npos);
  auto c = reply(6);
  EXPECT_EQ(c->Str("id"), "c");
  EXPECT_EQ(c->Num("status"), 200);
  EXPECT_EQ(lines[7], "close 1000");
  // Each answered message is a prediction in the log, under the id it was answered with.
  const std::string id(c->Str("request_id"));
  HttpResult stored;
  for (int i = 0; i < 100 && stored.status != 200; ++i) {
    stored = Fetch(port_, "GET", "/v1/predictions/" + id);
  }
  EXPECT_EQ(stored.status, 200) << stored.body;
  EXPECT_EQ(ParseJson(stored.body)->Str("input_text"), "refund please");
  // A plain GET is told to upgrade.
  auto plain = Fetch(port_, "GET", "/v1/stream");
  EXPECT_EQ(plain.status, 426);
  EXPECT_EQ(plain.Header("upgrade"), "websocket");
  auto metrics = Fetch(port_, "GET", "/metrics").body;
  EXPECT_NE(metrics.find("closedloop_websocket_messages_total 6"), std::string::npos) << metrics;
  EXPECT_NE(metrics.find("closedloop_websocket_connections_open 0"), std::string::npos);
}

TEST_F(StreamTest, AuthenticatedAtUpgradeAndRateLimitedPerMessage) {
  auto created =
      RunClosedloop("keys create --data-dir " + dir_.path() + " --name app --scope predict");
  ASSERT_EQ(created.exit_code, 0) << created.output;
  const std::string key = created.output.substr(0, created.output.find('\n'));
  Start(
      std::string(kTestConfig) +
      "[auth]\nenabled = true\n[rate_limit]\nper_principal_rate = 0.1\nper_principal_burst = 3\n");
  EXPECT_EQ(Client("", "messages x"), std::vector<std::string>{"http 401"});
  EXPECT_EQ(Client("clk_aaaaaaaaaaaa_" + std::string(40, 'b'), "messages x"),
            std::vector<std::string>{"http 401"});
  const std::string msg = Quote(R"({"id":1,"model":"support-intent","text":"card"})");
  // The upgrade request takes a token too: 3 = the upgrade and two messages.
  auto lines = Client(key, "messages " + msg + " " + msg + " " + msg);
  ASSERT_EQ(lines.size(), 5u);
  EXPECT_EQ(ParseJson(lines[1].substr(6))->Num("status"), 200);
  EXPECT_EQ(ParseJson(lines[2].substr(6))->Num("status"), 200);
  auto limited = ParseJson(lines[3].substr(6));
  EXPECT_EQ(limited->Num("status"), 429);
  EXPECT_NE(limited->Str("error").find("rate limit exceeded for principal app"), std::string::npos);
  EXPECT_EQ(lines[4], "close 1000");  // refused, still open
}

TEST_F(StreamTest, CloseCodesAndKeepAlivePings) {
  Start(
      "[server]\nheader_timeout_ms = 400\nwebsocket_idle_timeout_ms = 200\n"
      "websocket_max_message_bytes = 1000\n");
  EXPECT_EQ(Client("", "binary"), (std::vector<std::string>{"open", "close 1003"}));
  EXPECT_EQ(Client("", "big 2000"), (std::vector<std::string>{"open", "close 1009"}));
  // Quiet for 1 s with a 200 ms idle timeout: pinged, answered, still open.
  auto quiet = Client("", "idle 1000 1");
  ASSERT_GE(quiet.size(), 3u);
  EXPECT_EQ(quiet.front(), "open");
  EXPECT_EQ(quiet[1], "ping");
  EXPECT_EQ(quiet.back(), "close 1000");
  // A peer that never answers the ping is dropped (abnormal closure, no close frame).
  auto deaf = Client("", "idle 3000 0");
  ASSERT_GE(deaf.size(), 2u);
  EXPECT_EQ(deaf.back(), "close 1006");
  EXPECT_EQ(Fetch(port_, "GET", "/v2/health/ready").status, 200);  // the server is fine
}

TEST_F(StreamTest, AClientThatDoesNotReadIsPausedAndLosesNothing) {
  Start(std::string(kTestConfig));
  // 40,000 predictions while the client reads nothing: the replies fill the socket
  // buffers, then the bounded queue (server.websocket_max_queued), and the server
  // stops reading (the client waits for the paused gauge, or times out). Then it
  // reads: every reply arrives, in order.
  auto lines = Client("", "flood 40000");
  ASSERT_EQ(lines.size(), 4u) << ::testing::PrintToString(lines);
  EXPECT_EQ(lines[0], "open");
  ASSERT_EQ(lines[1].rfind("paused ", 0), 0u) << lines[1];
  EXPECT_LT(std::stoi(lines[1].substr(7)), 40000);  // it stopped reading before the end
  EXPECT_EQ(lines[2], "replies 40000 in order");
  EXPECT_EQ(lines[3], "close 1000");
  auto page = Fetch(port_, "GET", "/metrics").body;
  EXPECT_NE(page.find("\nclosedloop_websocket_messages_total 40000\n"), std::string::npos);
  EXPECT_NE(page.find("\nclosedloop_websocket_connections_paused 0\n"), std::string::npos);
}

}  // namespace
}  // namespace closedloop::testing
