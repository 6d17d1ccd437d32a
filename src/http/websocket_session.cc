#include "http/websocket_session.h"

#include <boost/asio/dispatch.hpp>

#include "core/logging.h"

namespace closedloop {

namespace beast = boost::beast;
namespace websocket = beast::websocket;

template <class Stream>
BasicWebSocketSession<Stream>::BasicWebSocketSession(Stream stream, ServerShared& shared,
                                                     HttpRequest request,
                                                     std::shared_ptr<WebSocketHandler> handler,
                                                     std::string principal,
                                                     std::vector<std::string> scopes,
                                                     std::string client_ip)
    : ws_(std::move(stream)),
      shared_(shared),
      request_(std::move(request)),
      handler_(std::move(handler)),
      principal_(std::move(principal)),
      scopes_(std::move(scopes)),
      client_ip_(std::move(client_ip)) {
  shared_.websocket_open->Add(1);
}

template <class Stream>
BasicWebSocketSession<Stream>::~BasicWebSocketSession() {
  shared_.websocket_open->Add(-1);
  if (paused_) shared_.websocket_paused->Add(-1);
}

template <class Stream>
void BasicWebSocketSession<Stream>::Start() {
  websocket::stream_base::timeout timeout{};
  timeout.handshake_timeout = std::chrono::milliseconds(shared_.config.header_timeout_ms);
  timeout.idle_timeout = std::chrono::milliseconds(shared_.config.websocket_idle_timeout_ms);
  timeout.keep_alive_pings = true;
  ws_.set_option(timeout);
  ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) { res.set(beast::http::field::server, "closedloop"); }));
  ws_.read_message_max(shared_.config.websocket_max_message_bytes);
  ws_.async_accept(request_, [self = this->shared_from_this()](beast::error_code ec) {
    if (ec) {
      self->shared_.connection_errors->Inc();
      return;
    }
    self->Read();
  });
}

template <class Stream>
void BasicWebSocketSession<Stream>::Read() {
  if (closing_) return;
  ws_.async_read(buffer_, [self = this->shared_from_this()](beast::error_code ec, size_t) {
    self->OnRead(ec);
  });
}

template <class Stream>
bool BasicWebSocketSession<Stream>::AdmitMessage(unsigned& status, std::string& error_json) {
  RequestContext ctx(request_, "");
  ctx.principal = principal_;
  for (Admission* a : shared_.admissions) {
    if (!a->PerMessage()) continue;
    if (!a->Admit(ctx, "/v1/stream", client_ip_)) {
      status = ctx.status;
      error_json = std::move(ctx.body);
      return false;
    }
  }
  return true;
}

template <class Stream>
void BasicWebSocketSession<Stream>::OnRead(beast::error_code ec) {
  if (ec == websocket::error::closed || closing_) return;  // the client closed; Beast answered
  if (ec) {
    // Too big (1009), bad UTF-8 (1007), protocol errors: Beast has failed the
    // connection with the right code; a timeout means no pong came back.
    LogDebug("websocket closed").Kv("error", ec.message());
    return;
  }
  if (!ws_.got_text()) {
    buffer_.consume(buffer_.size());
    return Close(websocket::close_code::unknown_data);
  }
  std::string text = beast::buffers_to_string(buffer_.data());
  buffer_.consume(buffer_.size());
  const std::string request_id = shared_.ids.Next();
  WebSocketMessage m;
  m.text = text;
  m.request_id = request_id;
  m.principal = principal_;
  m.scopes = &scopes_;
  m.client_ip = client_ip_;
  m.upgrade_headers = &request_.base();
  m.executor = ws_.get_executor();
  m.admit = [this](unsigned& status, std::string& error_json) {
    return AdmitMessage(status, error_json);
  };
  const uint64_t seq = next_seq_++;
  outbox_.emplace_back();
  try {
    handler_->OnMessage(m, [self = this->shared_from_this(), seq](std::string reply) {
      auto& session = *self;
      boost::asio::dispatch(session.ws_.get_executor(),
                            [self = std::move(self), seq, reply = std::move(reply)]() mutable {
                              self->Fill(seq, std::move(reply));
                            });
    });
  } catch (const std::exception& e) {
    LogError("websocket handler threw").Kv("error", e.what());
    return Close(websocket::close_code::internal_error);
  }
  if (shared_.draining.load(std::memory_order_relaxed)) {
    return Close(websocket::close_code::going_away);
  }
  if (outbox_.size() >= shared_.config.websocket_max_queued) {
    paused_ = true;  // backpressure: resume when half the queue is written
    shared_.websocket_paused->Add(1);
    return;
  }
  Read();
}

template <class Stream>
void BasicWebSocketSession<Stream>::Fill(uint64_t seq, std::string reply) {
  if (seq < front_seq_ || seq - front_seq_ >= outbox_.size()) return;  // cannot happen
  Slot& slot = outbox_[seq - front_seq_];
  slot.reply = std::move(reply);
  slot.ready = true;
  shared_.websocket_messages->Inc();
  if (!writing_) Write();
}

template <class Stream>
void BasicWebSocketSession<Stream>::Write() {
  if (outbox_.empty() || !outbox_.front().ready || closing_) return;
  writing_ = true;
  ws_.text(true);
  ws_.async_write(
      boost::asio::buffer(outbox_.front().reply),
      [self = this->shared_from_this()](beast::error_code ec, size_t) { self->OnWrite(ec); });
}

template <class Stream>
void BasicWebSocketSession<Stream>::OnWrite(beast::error_code ec) {
  writing_ = false;
  if (ec) return;  // the connection is gone
  outbox_.pop_front();
  ++front_seq_;
  Write();
  if (paused_ && outbox_.size() <= shared_.config.websocket_max_queued / 2) {
    paused_ = false;
    shared_.websocket_paused->Add(-1);
    Read();
  }
}

template <class Stream>
void BasicWebSocketSession<Stream>::Close(websocket::close_code code) {
  if (closing_) return;
  closing_ = true;
  ws_.async_close(websocket::close_reason(code),
                  [self = this->shared_from_this()](beast::error_code) {});
}

template class BasicWebSocketSession<PlainStream>;
template class BasicWebSocketSession<TlsStream>;

}  // namespace closedloop
