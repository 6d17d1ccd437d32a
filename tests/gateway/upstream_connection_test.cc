// The gateway's pipelined upstream connection against a scripted replica on
// loopback: requests added in one turn go out in one write and are answered in
// order; a close, `Connection: close`, a refused connect or Abort() fail every
// request still on it exactly once; a request that goes alone keeps the
// connection to itself.
#include "gateway/upstream_connection.h"

#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/write.hpp>

#include "core/clock.h"

namespace closedloop {
namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// A request on the connection: logs what happens to it, in order, in `log`.
class LoggedExchange final : public UpstreamExchange {
 public:
  LoggedExchange(std::string name, std::vector<std::string>& log)
      : name_(std::move(name)),
        wire_("GET /" + name_ + " HTTP/1.1\r\nHost: r\r\n\r\n"),
        log_(log) {}
  void AppendWire(std::vector<asio::const_buffer>& wire) override {
    log_.push_back("write " + name_);
    wire.push_back(asio::buffer(wire_));
  }
  UpstreamResponseParser& StartAnswer() override {
    parser_.emplace();
    return *parser_;
  }
  void OnSent() override { log_.push_back("sent " + name_); }
  void OnAnswer() override {
    log_.push_back("answer " + name_ + " " + std::to_string(parser_->status) + " " + parser_->body);
  }
  void OnFailure(const boost::beast::error_code&, const char* what) override {
    log_.push_back("failed " + name_ + " " + what);
  }

 private:
  const std::string name_;
  const std::string wire_;
  std::vector<std::string>& log_;
  std::optional<UpstreamResponseParser> parser_;
};

// A replica stand-in on its own thread (blocking sockets): accepts one
// connection, reads until it has `requests` whole requests, then runs `answer`
// on the socket with what it read.
class ScriptedReplica {
 public:
  ScriptedReplica(size_t requests, std::function<void(tcp::socket&, const std::string&)> answer)
      : acceptor_(io_, tcp::endpoint(asio::ip::address_v4::loopback(), 0)) {
    thread_ = std::thread([this, requests, answer = std::move(answer)] {
      tcp::socket s(io_);
      boost::system::error_code accept_ec;
      acceptor_.accept(s, accept_ec);  // fails when the test ends first (acceptor closed)
      if (accept_ec) return;
      std::string got;
      while (Count(got) < requests) {
        char buf[4096];
        boost::system::error_code ec;
        const size_t n = s.read_some(asio::buffer(buf), ec);
        if (ec) return;
        got.append(buf, n);
      }
      received_ = got;
      answer(s, got);
      // Holds the connection until the test is done with it (EOF from the client).
      boost::system::error_code ec;
      char c;
      asio::read(s, asio::buffer(&c, 1), ec);
    });
  }
  ~ScriptedReplica() {
    acceptor_.close();
    if (thread_.joinable()) thread_.join();
  }
  tcp::endpoint endpoint() const { return acceptor_.local_endpoint(); }
  const std::string& received() const { return received_; }  // after the answer

 private:
  static size_t Count(const std::string& s) {
    size_t n = 0;
    for (size_t at = s.find("\r\n\r\n"); at != std::string::npos; at = s.find("\r\n\r\n", at + 4))
      ++n;
    return n;
  }
  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::string received_;
  std::thread thread_;
};

std::string Answer(const std::string& body, const std::string& extra = "") {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" + extra +
         "\r\n" + body;
}

void Send(tcp::socket& s, const std::string& bytes) { asio::write(s, asio::buffer(bytes)); }

class UpstreamConnectionTest : public ::testing::Test {
 protected:
  // Runs the io loop until `done` (each step bounded, so a bug fails, not hangs).
  void RunUntil(const std::function<bool()>& done) {
    while (!done()) {
      ASSERT_GT(ioc_.run_one_for(std::chrono::seconds(10)), 0u) << "nothing happened for 10 s";
    }
  }
  std::shared_ptr<LoggedExchange> Exchange(const std::string& name) {
    return std::make_shared<LoggedExchange>(name, log_);
  }
  size_t Logged() const { return log_.size(); }

  asio::io_context ioc_;
  std::vector<std::string> log_;
};

TEST_F(UpstreamConnectionTest, RequestsOfOneTurnGoOutInOneWriteAndAreAnsweredInOrder) {
  ScriptedReplica replica(3, [](tcp::socket& s, const std::string&) {
    Send(s, Answer("A") + Answer("B") + Answer("CC"));  // pipelined answers, one write
  });
  auto conn = UpstreamConnection::Open(ioc_, replica.endpoint(), SystemClock::Get());
  conn->Add(Exchange("a"), false);
  conn->Add(Exchange("b"), false);
  conn->Add(Exchange("c"), false);
  EXPECT_EQ(conn->load(), 3u);
  EXPECT_TRUE(conn->has_unsent());
  EXPECT_TRUE(conn->Accepts(false, 4));
  EXPECT_FALSE(conn->Accepts(false, 3));  // at the depth
  EXPECT_FALSE(conn->Accepts(true, 4));   // one that goes alone needs an empty connection

  RunUntil([&] { return Logged() == 9; });
  EXPECT_EQ(log_,
            (std::vector<std::string>{"write a", "write b", "write c", "sent a", "sent b", "sent c",
                                      "answer a 200 A", "answer b 200 B", "answer c 200 CC"}));
  EXPECT_EQ(replica.received(),
            "GET /a HTTP/1.1\r\nHost: r\r\n\r\nGET /b HTTP/1.1\r\nHost: r\r\n\r\n"
            "GET /c HTTP/1.1\r\nHost: r\r\n\r\n");
  EXPECT_EQ(conn->load(), 0u);
  EXPECT_FALSE(conn->broken());
  EXPECT_TRUE(conn->StillOpen());
  EXPECT_TRUE(conn->Accepts(true, 4));
}

TEST_F(UpstreamConnectionTest, AClosedConnectionFailsEveryRequestLeftOnItOnce) {
  ScriptedReplica replica(3, [](tcp::socket& s, const std::string&) {
    Send(s, Answer("A"));
    s.close();
  });
  auto conn = UpstreamConnection::Open(ioc_, replica.endpoint(), SystemClock::Get());
  for (const char* name : {"a", "b", "c"}) conn->Add(Exchange(name), false);
  RunUntil([&] { return Logged() == 9; });
  EXPECT_EQ(std::vector<std::string>(log_.begin() + 6, log_.end()),
            (std::vector<std::string>{"answer a 200 A", "failed b reset", "failed c reset"}));
  EXPECT_TRUE(conn->broken());
  EXPECT_FALSE(conn->Accepts(false, 4));
  ioc_.poll();  // nothing reported twice
  EXPECT_EQ(Logged(), 9u);
}

TEST_F(UpstreamConnectionTest, AnAnswerWithConnectionCloseEndsThePipeline) {
  ScriptedReplica replica(2, [](tcp::socket& s, const std::string&) {
    Send(s, Answer("A", "Connection: close\r\n") + Answer("B"));
  });
  auto conn = UpstreamConnection::Open(ioc_, replica.endpoint(), SystemClock::Get());
  conn->Add(Exchange("a"), false);
  conn->Add(Exchange("b"), false);
  RunUntil([&] { return Logged() == 6; });
  EXPECT_EQ(log_[4], "answer a 200 A");
  EXPECT_EQ(log_[5], "failed b reset");  // what follows a close is not taken for b's answer
  EXPECT_TRUE(conn->broken());
}

TEST_F(UpstreamConnectionTest, ARequestThatGoesAloneKeepsTheConnectionToItself) {
  ScriptedReplica replica(
      2, [](tcp::socket& s, const std::string&) { Send(s, Answer("X") + Answer("Y")); });
  auto conn = UpstreamConnection::Open(ioc_, replica.endpoint(), SystemClock::Get());
  conn->Add(Exchange("x"), true);
  EXPECT_FALSE(conn->Accepts(false, 4));
  EXPECT_FALSE(conn->Accepts(true, 4));
  RunUntil([&] { return Logged() == 2; });  // written alone
  EXPECT_EQ(log_, (std::vector<std::string>{"write x", "sent x"}));
  // A caller that ignored Accepts: y waits for x's write, then both are
  // answered in order (the replica answers once it has both).
  conn->Add(Exchange("y"), false);
  RunUntil([&] { return Logged() == 6; });
  EXPECT_EQ(log_[4], "answer x 200 X");
  EXPECT_EQ(log_[5], "answer y 200 Y");
  EXPECT_TRUE(conn->Accepts(false, 4));
}

TEST_F(UpstreamConnectionTest, ARefusedConnectFailsEveryWaitingRequest) {
  tcp::endpoint closed;
  {
    tcp::acceptor probe(ioc_, tcp::endpoint(asio::ip::address_v4::loopback(), 0));
    closed = probe.local_endpoint();
  }  // nothing listens there now
  auto conn = UpstreamConnection::Open(ioc_, closed, SystemClock::Get());
  conn->Add(Exchange("a"), false);
  conn->Add(Exchange("b"), false);
  RunUntil([&] { return Logged() == 2; });
  EXPECT_EQ(log_, (std::vector<std::string>{"failed a connect", "failed b connect"}));
  EXPECT_TRUE(conn->broken());
}

TEST_F(UpstreamConnectionTest, AbortFailsWhatIsOnItAtOnceAndNothingLater) {
  ScriptedReplica replica(2, [](tcp::socket&, const std::string&) {});  // never answers
  auto conn = UpstreamConnection::Open(ioc_, replica.endpoint(), SystemClock::Get());
  conn->Add(Exchange("a"), false);
  conn->Add(Exchange("b"), false);
  RunUntil([&] { return Logged() == 4; });  // both written
  conn->Abort();
  EXPECT_EQ(std::vector<std::string>(log_.begin() + 4, log_.end()),
            (std::vector<std::string>{"failed a reset", "failed b reset"}));
  ioc_.poll();  // the aborted read ends (operation_aborted) and reports nothing
  EXPECT_EQ(Logged(), 6u);
}

}  // namespace
}  // namespace closedloop
