// Internal to the http component: the state shared by all connections of a
// server, and one connection's session. Not part of the public interface.
#pragma once

#include <array>
#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <type_traits>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>

#include "core/clock.h"
#include "core/config.h"
#include "core/ulid.h"
#include "http/admission.h"
#include "http/audit_sink.h"
#include "http/router.h"
#include "monitor/metrics.h"

namespace closedloop {

// One request/response on a connection, owned by the session so that it outlives
// a handler that defers its response.
struct Exchange {
  HttpRequest request;
  // The answer: its head serialized by ServerShared (status line to blank line),
  // and its body.
  unsigned status = 0;
  bool keep_alive = false;
  std::string head;
  std::string body;
  std::string request_id;
  std::optional<RequestContext> ctx;
  std::string_view route = "unmatched";
  std::string_view client_ip;             // the peer's address, owned by the session
  boost::asio::any_io_executor executor;  // the session's
  std::chrono::steady_clock::time_point start;
};

// Shared by all sessions of one server; outlives them (the server destroys its
// io_contexts, and with them every session, before this).
struct ServerShared {
  ServerShared(const ServerConfig& c, const Router& r, MetricsRegistry& m, const Clock& clk);

  // Runs the route for ex.request. True: ex.response is ready. False: the handler
  // deferred; `defer` made the DeferredResponse, which later calls Finalize().
  bool Dispatch(Exchange& ex,
                const std::function<std::shared_ptr<DeferredResponse>()>& defer = nullptr);
  // Builds ex's answer (head and body) from ex.ctx and records metrics.
  void Finalize(Exchange& ex);
  // A JSON error answer (closing the connection) for a request that could not be parsed.
  void ErrorResponse(unsigned status, std::string_view message, unsigned version, Exchange& ex);

  const ServerConfig config;
  const Router& router;
  const Clock& clock;
  UlidGenerator ids;
  std::atomic<bool> draining{false};
  std::atomic<int64_t> in_flight{0};

  Family<Counter>* requests_total;
  Family<Histogram>* request_seconds;
  Gauge* in_flight_gauge;
  Counter* connections_total;
  Gauge* connections_open;
  Counter* connection_errors;  // timeouts, parse errors, resets
  Counter* pipelined_answers;  // written together with the answer to a later request
  Gauge* websocket_open;       // WebSocket connections after the upgrade
  Gauge* websocket_paused;     // ... not reading: their reply queue is full (backpressure)
  Counter* websocket_messages;
  // Tracing (HttpServer::SetTracing, before Start): new traces are sampled with
  // this probability; slower requests are logged with their spans; sampled
  // requests go to the sink.
  double sample_ratio = 1.0;
  int64_t slow_request_ms = 0;
  TraceSink* trace_sink = nullptr;
  std::vector<Admission*> admissions;  // HttpServer::AddAdmission, before Start; in order
  AuditSink* audit = nullptr;          // HttpServer::SetAudit, before Start
  // With server.tls_cert_file: every connection is TLS (set up by HttpServer::Start).
  std::unique_ptr<boost::asio::ssl::context> tls;
};

// A connection's TCP socket, bound to its io thread's io_context by type (not a
// type-erased executor: no executor copies per asynchronous operation). A plain
// socket: the session keeps its own deadlines (no per-operation timers).
using PlainStream =
    boost::asio::basic_stream_socket<boost::asio::ip::tcp, boost::asio::io_context::executor_type>;

// One connection: plain TCP (HttpSession) or TLS (HttpsSession, the handshake
// first). Both are instantiated in session.cc.
template <class Stream>
class BasicHttpSession : public std::enable_shared_from_this<BasicHttpSession<Stream>> {
 public:
  BasicHttpSession(Stream stream, ServerShared& shared);
  ~BasicHttpSession();
  void Start();
  // Called on the session's executor when a deferred handler finished.
  void CompleteDeferred(const std::function<void(RequestContext&)>& fill);
  // The connection's io_context executor (by type: dispatching to it is direct).
  auto executor() { return stream_.get_executor(); }

 private:
  static constexpr bool kTls = !std::is_same_v<Stream, PlainStream>;
  void ReadHeader();
  void OnHeader(boost::beast::error_code ec);
  void ReadBody();
  void OnBody(boost::beast::error_code ec);
  void Handle();
  // Hands the connection to a WebSocketSession (the route accepted the upgrade).
  void UpgradeToWebSocket();
  // Answers the request. When the next pipelined request is already buffered (a
  // whole header), the answer waits in out_ and is written with a later one:
  // one write for a pipelined batch (at most kMaxHeldBytes held). Whatever else
  // the connection writes or waits for goes after out_ (FlushHeld).
  void WriteResponse();
  void OnWrite(boost::beast::error_code ec, bool keep_alive);
  bool NextRequestBuffered() const;
  void RequestAnswered();  // no longer counted in flight (written, or upgraded)
  // Writes the held answers, then calls `next` (on error: closes).
  void FlushHeld(void (BasicHttpSession::*next)());
  void AwaitBody();  // after the header: 100 Continue if asked, then the body
  // Answers a protocol-level error and closes the connection after the write.
  void FailRequest(unsigned status, std::string_view message);
  // Closes, TLS first sending close_notify (bounded by a 1 s deadline).
  void Close();
  void CloseSocket();
  // Timeouts: one deadline at a time (header, body, write, lingering close) and one
  // lazily armed timer per connection. Moving the deadline costs a clock read: the
  // timer is re-armed only when it fires before the deadline it finds then (or the
  // deadline moved earlier than it), so a busy keep-alive connection re-arms about
  // once per timeout period, not per request. Past the deadline the socket is
  // closed and the pending operation reports beast::error::timeout.
  void SetDeadline(int milliseconds);
  void ClearDeadline();  // while a request is handled
  void ArmTimer();
  void OnTimer(boost::beast::error_code ec, uint64_t generation);
  // After an error response with unread input: half-close, discard what the client
  // still sends (bounded in bytes and time), then close. Closing with unread data
  // would make the kernel send RST, and the client could lose the error response.
  void LingeringClose();
  void Discard();
  PlainStream& tcp() { return boost::beast::get_lowest_layer(stream_); }

  Stream stream_;
  boost::beast::flat_buffer buffer_;
  ServerShared& shared_;
  std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
  size_t body_limit_ = 0;  // the current request's (its route's, else the server's)
  Exchange exchange_;
  bool counted_in_flight_ = false;
  bool close_after_error_ = false;
  bool head_request_ = false;  // the request being answered is a HEAD
  size_t discarded_ = 0;
  std::string client_ip_;
  std::string out_;  // held answers to earlier pipelined requests, in order
  std::array<boost::asio::const_buffer, 3> wire_;  // out_, the answer's head and body
  std::array<char, 16384> discard_buf_;
  boost::asio::basic_waitable_timer<std::chrono::steady_clock,
                                    boost::asio::wait_traits<std::chrono::steady_clock>,
                                    boost::asio::io_context::executor_type>
      timer_;
  std::chrono::steady_clock::time_point deadline_ = std::chrono::steady_clock::time_point::max();
  std::chrono::steady_clock::time_point timer_at_;  // when the armed timer fires
  uint64_t timer_generation_ = 0;
  bool timer_armed_ = false;
  bool timed_out_ = false;
  bool done_ = false;  // closed or upgraded: the timer only lets go
};

using TlsStream = boost::beast::ssl_stream<PlainStream>;
using HttpSession = BasicHttpSession<PlainStream>;
using HttpsSession = BasicHttpSession<TlsStream>;

}  // namespace closedloop
