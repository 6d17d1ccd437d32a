#include "http/session.h"

#include <algorithm>

#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/error.hpp>

#include "core/logging.h"
#include "http/websocket_session.h"

namespace closedloop {

namespace beast = boost::beast;
namespace http = boost::beast::http;

namespace {

constexpr size_t kHeaderLimitBytes = 16 * 1024;
constexpr std::string_view kContinue = "HTTP/1.1 100 Continue\r\n\r\n";

bool IsHttpParseError(const beast::error_code& ec) {
  return ec.category() == http::make_error_code(http::error::bad_version).category();
}

}  // namespace

template <class Stream>
BasicHttpSession<Stream>::BasicHttpSession(Stream stream, ServerShared& shared)
    : stream_(std::move(stream)), shared_(shared), timer_(tcp().get_executor()) {
  beast::error_code ec;
  auto peer = tcp().remote_endpoint(ec);
  if (!ec) client_ip_ = peer.address().to_string();
  shared_.connections_total->Inc();
  shared_.connections_open->Add(1);
}

template <class Stream>
void BasicHttpSession<Stream>::Start() {
  if constexpr (kTls) {
    SetDeadline(shared_.config.header_timeout_ms);
    stream_.async_handshake(boost::asio::ssl::stream_base::server,
                            [self = this->shared_from_this()](beast::error_code ec) {
                              if (ec) {  // not TLS, a bad certificate exchange, or too slow
                                self->shared_.connection_errors->Inc();
                                beast::error_code ignored;
                                return self->tcp().close(ignored);
                              }
                              self->ReadHeader();
                            });
  } else {
    ReadHeader();
  }
}

template <class Stream>
BasicHttpSession<Stream>::~BasicHttpSession() {
  if (counted_in_flight_) {
    shared_.in_flight.fetch_sub(1);
    shared_.in_flight_gauge->Add(-1);
  }
  shared_.connections_open->Add(-1);
}

template <class Stream>
void BasicHttpSession<Stream>::ReadHeader() {
  parser_.emplace();
  parser_->header_limit(kHeaderLimitBytes);
  // The largest limit any route has; once the header names the route, its own.
  body_limit_ = std::max(shared_.config.body_limit_bytes, shared_.router.MaxBodyLimit());
  parser_->body_limit(body_limit_);
  SetDeadline(shared_.config.header_timeout_ms);
  http::async_read_header(
      stream_, buffer_, *parser_,
      [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnHeader(ec); });
}

template <class Stream>
void BasicHttpSession<Stream>::OnHeader(beast::error_code ec) {
  if (timed_out_) ec = beast::error::timeout;
  if (ec == http::error::end_of_stream || ec == boost::asio::error::operation_aborted) {
    return Close();
  }
  if (ec == beast::error::timeout) {
    shared_.connection_errors->Inc();
    return Close();  // idle keep-alive or a client trickling its header
  }
  if (ec == http::error::body_limit) {
    return FailRequest(
        413, "request body exceeds the limit of " + std::to_string(body_limit_) + " bytes");
  }
  if (ec == http::error::header_limit) {
    return FailRequest(
        431, "request header exceeds the limit of " + std::to_string(kHeaderLimitBytes) + " bytes");
  }
  if (ec) {
    shared_.connection_errors->Inc();
    if (IsHttpParseError(ec)) return FailRequest(400, "malformed HTTP request: " + ec.message());
    return Close();
  }
  if (shared_.router.MaxBodyLimit() > 0) {
    const auto& head = parser_->get();
    size_t limit = shared_.router.BodyLimit(head.method(), head.target());
    if (limit == 0) limit = shared_.config.body_limit_bytes;
    body_limit_ = limit;
    if (parser_->content_length() && *parser_->content_length() > limit) {
      return FailRequest(413,
                         "request body exceeds the limit of " + std::to_string(limit) + " bytes");
    }
    parser_->body_limit(limit);  // no body octet has been parsed yet
  }
  if (!counted_in_flight_) {  // still counted while an earlier answer is held in out_
    counted_in_flight_ = true;
    shared_.in_flight.fetch_add(1);
    shared_.in_flight_gauge->Add(1);
  }

  if (!parser_->is_done() && buffer_.size() > 0) {
    // The body (or its start) usually came with the header: parse what is here
    // now rather than through another asynchronous read that finds it buffered.
    beast::error_code pec;
    buffer_.consume(parser_->put(buffer_.data(), pec));
    if (pec && pec != http::error::need_more) return OnBody(pec);
  }
  if (parser_->is_done()) return Handle();
  // The body is still to come: held answers go first (a client may wait for
  // them, or for 100 Continue, before it sends more).
  if (!out_.empty()) return FlushHeld(&BasicHttpSession::AwaitBody);
  AwaitBody();
}

template <class Stream>
void BasicHttpSession<Stream>::AwaitBody() {
  const auto& req = parser_->get();
  if (beast::iequals(req[http::field::expect], "100-continue")) {
    boost::asio::async_write(stream_, boost::asio::buffer(kContinue.data(), kContinue.size()),
                             [self = this->shared_from_this()](beast::error_code wec, size_t) {
                               if (wec || self->timed_out_) return self->Close();
                               self->ReadBody();
                             });
    return;
  }
  ReadBody();
}

template <class Stream>
void BasicHttpSession<Stream>::ReadBody() {
  SetDeadline(shared_.config.body_timeout_ms);
  http::async_read(
      stream_, buffer_, *parser_,
      [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnBody(ec); });
}

template <class Stream>
void BasicHttpSession<Stream>::OnBody(beast::error_code ec) {
  if (timed_out_) ec = beast::error::timeout;
  if (ec == http::error::body_limit) {
    return FailRequest(
        413, "request body exceeds the limit of " + std::to_string(body_limit_) + " bytes");
  }
  if (ec) {
    shared_.connection_errors->Inc();
    if (IsHttpParseError(ec)) return FailRequest(400, "malformed HTTP request: " + ec.message());
    return Close();  // timeout, reset, or the client went away mid-body
  }
  Handle();
}

namespace {

template <class Session>
class SessionDeferred final : public DeferredResponse {
 public:
  explicit SessionDeferred(std::shared_ptr<Session> session) : session_(std::move(session)) {}
  void Finish(std::function<void(RequestContext&)> fill) override {
    auto session = std::move(session_);
    auto& s = *session;
    // Inline when called on the connection's own io thread (an async handler such
    // as the gateway's proxy), else queued to it (a batcher thread).
    boost::asio::dispatch(s.executor(), [session = std::move(session), fill = std::move(fill)] {
      session->CompleteDeferred(fill);
    });
  }

 private:
  std::shared_ptr<Session> session_;
};

}  // namespace

template <class Stream>
void BasicHttpSession<Stream>::Handle() {
  ClearDeadline();  // no timeout while the request is handled: only on the client's side
  exchange_.request = parser_->release();
  head_request_ = exchange_.request.method() == http::verb::head;
  exchange_.client_ip = client_ip_;
  exchange_.executor = stream_.get_executor();
  bool ready = shared_.Dispatch(exchange_, [this] {
    return std::make_shared<SessionDeferred<BasicHttpSession>>(this->shared_from_this());
  });
  if (!ready) return;
  if (exchange_.ctx->websocket && exchange_.ctx->status == 101) {
    if (!out_.empty()) return FlushHeld(&BasicHttpSession::UpgradeToWebSocket);
    return UpgradeToWebSocket();
  }
  WriteResponse();
}

template <class Stream>
void BasicHttpSession<Stream>::UpgradeToWebSocket() {
  RequestAnswered();  // a WebSocket is a connection, not a request in flight
  done_ = true;       // the WebSocket session keeps its own time from here
  timer_.cancel();
  RequestContext& ctx = *exchange_.ctx;
  auto ws = std::make_shared<BasicWebSocketSession<Stream>>(
      std::move(stream_), shared_, std::move(exchange_.request), std::move(ctx.websocket),
      std::move(ctx.principal), std::move(ctx.principal_scopes), client_ip_);
  exchange_.ctx.reset();
  ws->Start();
}

template <class Stream>
void BasicHttpSession<Stream>::CompleteDeferred(const std::function<void(RequestContext&)>& fill) {
  fill(*exchange_.ctx);
  shared_.Finalize(exchange_);
  WriteResponse();
}

template <class Stream>
bool BasicHttpSession<Stream>::NextRequestBuffered() const {
  const auto data = buffer_.data();
  const std::string_view buffered(static_cast<const char*>(data.data()), data.size());
  return buffered.find("\r\n\r\n") != std::string_view::npos;
}

template <class Stream>
void BasicHttpSession<Stream>::WriteResponse() {
  constexpr size_t kMaxHeldBytes = 64 * 1024;
  const bool keep_alive = exchange_.keep_alive;
  // A HEAD request's answer has the headers of the GET's, without its body.
  const std::string_view body(exchange_.body.data(), head_request_ ? 0 : exchange_.body.size());
  if (keep_alive && !close_after_error_ &&
      out_.size() + exchange_.head.size() + body.size() <= kMaxHeldBytes && NextRequestBuffered()) {
    out_.append(exchange_.head).append(body);
    shared_.pipelined_answers->Inc();
    // Still in flight until out_ is written: a graceful shutdown waits for it.
    return ReadHeader();  // parses the buffered request: no read from the socket
  }
  wire_ = {boost::asio::buffer(out_), boost::asio::buffer(exchange_.head),
           boost::asio::buffer(body.data(), body.size())};
  // A client that does not read its response is cut off like one that does not send.
  SetDeadline(shared_.config.body_timeout_ms);
  boost::asio::async_write(
      stream_, wire_, [self = this->shared_from_this(), keep_alive](beast::error_code ec, size_t) {
        self->out_.clear();
        self->OnWrite(ec, keep_alive);
      });
}

template <class Stream>
void BasicHttpSession<Stream>::RequestAnswered() {
  if (counted_in_flight_) {
    counted_in_flight_ = false;
    shared_.in_flight.fetch_sub(1);
    shared_.in_flight_gauge->Add(-1);
  }
}

template <class Stream>
void BasicHttpSession<Stream>::OnWrite(beast::error_code ec, bool keep_alive) {
  if (timed_out_) ec = beast::error::timeout;
  RequestAnswered();
  if (close_after_error_ && !ec) return LingeringClose();
  if (ec || !keep_alive) return Close();
  ReadHeader();  // pipelined bytes already in buffer_ are parsed next, in order
}

template <class Stream>
void BasicHttpSession<Stream>::FlushHeld(void (BasicHttpSession::*next)()) {
  SetDeadline(shared_.config.body_timeout_ms);
  boost::asio::async_write(stream_, boost::asio::buffer(out_),
                           [self = this->shared_from_this(), next](beast::error_code ec, size_t) {
                             self->out_.clear();
                             if (ec || self->timed_out_) return self->Close();
                             ((*self).*next)();
                           });
}

template <class Stream>
void BasicHttpSession<Stream>::FailRequest(unsigned status, std::string_view message) {
  unsigned version = parser_ && parser_->is_header_done() ? parser_->get().version() : 11;
  head_request_ = false;
  // Never kept alive: the stream position is unknown now.
  shared_.ErrorResponse(status, message, version, exchange_);
  close_after_error_ = true;
  WriteResponse();
}

template <class Stream>
void BasicHttpSession<Stream>::LingeringClose() {
  beast::error_code ec;
  tcp().shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
  SetDeadline(2000);
  Discard();
}

template <class Stream>
void BasicHttpSession<Stream>::Discard() {
  constexpr size_t kMaxDiscard = 4 << 20;
  stream_.async_read_some(boost::asio::buffer(discard_buf_),
                          [self = this->shared_from_this()](beast::error_code ec, size_t n) {
                            self->discarded_ += n;
                            if (ec || self->discarded_ > kMaxDiscard) return self->Close();
                            self->Discard();
                          });
}

template <class Stream>
void BasicHttpSession<Stream>::Close() {
  if constexpr (kTls) {  // close_notify first (bounded), so the client sees a clean end
    if (!timed_out_) {
      SetDeadline(1000);
      stream_.async_shutdown(
          [self = this->shared_from_this()](beast::error_code) { self->CloseSocket(); });
      return;
    }
  }
  CloseSocket();
}

template <class Stream>
void BasicHttpSession<Stream>::CloseSocket() {
  done_ = true;
  timer_.cancel();
  beast::error_code ec;
  tcp().shutdown(boost::asio::ip::tcp::socket::shutdown_both, ec);
  tcp().close(ec);
}

template <class Stream>
void BasicHttpSession<Stream>::SetDeadline(int milliseconds) {
  deadline_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(milliseconds);
  if (timer_armed_ && timer_at_ <= deadline_) return;  // it fires first, then looks again
  ArmTimer();
}

template <class Stream>
void BasicHttpSession<Stream>::ClearDeadline() {
  deadline_ = std::chrono::steady_clock::time_point::max();
}

template <class Stream>
void BasicHttpSession<Stream>::ArmTimer() {
  timer_armed_ = true;
  timer_at_ = deadline_;
  const uint64_t generation = ++timer_generation_;
  timer_.expires_at(deadline_);  // a wait already pending ends as operation_aborted
  timer_.async_wait([self = this->shared_from_this(), generation](beast::error_code ec) {
    self->OnTimer(ec, generation);
  });
}

template <class Stream>
void BasicHttpSession<Stream>::OnTimer(beast::error_code ec, uint64_t generation) {
  if (generation != timer_generation_) return;  // superseded by a later ArmTimer
  timer_armed_ = false;
  if (ec || done_ || deadline_ == std::chrono::steady_clock::time_point::max()) return;
  if (std::chrono::steady_clock::now() < deadline_) return ArmTimer();  // moved on meanwhile
  // Past the deadline: closing the socket ends the pending operation
  // (operation_aborted), which its handler reports as the timeout it is.
  timed_out_ = true;
  beast::error_code ignored;
  tcp().close(ignored);
}

template class BasicHttpSession<PlainStream>;
template class BasicHttpSession<TlsStream>;

}  // namespace closedloop
