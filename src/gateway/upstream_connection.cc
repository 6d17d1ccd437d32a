#include "gateway/upstream_connection.h"

#include <sys/socket.h>

#include <cerrno>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/read.hpp>

namespace closedloop {

namespace asio = boost::asio;
namespace beast = boost::beast;

std::shared_ptr<UpstreamConnection> UpstreamConnection::Open(
    asio::io_context& ioc, const asio::ip::tcp::endpoint& endpoint, const Clock& clock) {
  auto c = std::make_shared<UpstreamConnection>(ioc, clock);
  c->stream_.async_connect(endpoint, [c](beast::error_code ec) {
    if (c->broken_) return;
    if (ec) return c->Break(ec, "connect");
    beast::error_code ignored;
    c->stream_.set_option(asio::ip::tcp::no_delay(true), ignored);
    c->connected_ = true;
    c->Write();
  });
  return c;
}

UpstreamConnection::UpstreamConnection(asio::io_context& ioc, const Clock& clock)
    : stream_(ioc.get_executor()), clock_(clock), idle_since_(clock.MonotonicNow()) {
  // A whole answer (or several pipelined ones) in one read; beast reads 512 bytes
  // into an empty buffer otherwise.
  buffer_.reserve(16384);
}

bool UpstreamConnection::Accepts(bool alone, size_t depth) const {
  if (broken_ || alone_ > 0) return false;
  return alone ? queue_.empty() : queue_.size() < depth;
}

bool UpstreamConnection::StillOpen() {
  if (broken_) return false;
  if (!connected_) return true;  // still connecting: a failure fails its requests
  char byte;
  const ssize_t n = ::recv(stream_.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
  return n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
}

void UpstreamConnection::Add(std::shared_ptr<UpstreamExchange> exchange, bool alone) {
  queue_.push_back({std::move(exchange), alone});
  if (alone) ++alone_;
  ScheduleWrite();
}

void UpstreamConnection::ScheduleWrite() {
  if (write_posted_ || !connected_ || writing_ > 0) return;
  write_posted_ = true;
  asio::post(stream_.get_executor(), [self = shared_from_this()] {
    self->write_posted_ = false;
    self->Write();
  });
}

void UpstreamConnection::Write() {
  if (broken_ || !connected_ || writing_ > 0 || !has_unsent()) return;
  wire_.clear();
  writing_ = queue_.size() - written_;
  for (size_t i = written_; i < queue_.size(); ++i) queue_[i].exchange->AppendWire(wire_);
  asio::async_write(stream_, wire_, [self = shared_from_this()](beast::error_code ec, size_t) {
    if (self->broken_) return;
    if (ec) return self->Break(ec, "reset");
    const size_t from = self->written_;
    const size_t n = self->writing_;
    self->written_ += n;
    self->writing_ = 0;
    for (size_t i = from; i < from + n; ++i) self->queue_[i].exchange->OnSent();
    self->ReadNext();
    self->Write();  // what was added during the write
  });
}

void UpstreamConnection::ReadNext() {
  if (broken_ || reading_ || written_ == 0) return;
  reading_ = true;
  // The handler keeps the exchange, and with it the parser the read fills, alive
  // even when a failure has let go of it first.
  std::shared_ptr<UpstreamExchange> reader = queue_.front().exchange;
  UpstreamResponseParser& parser = reader->StartAnswer();
  beast::http::async_read(stream_, buffer_, parser,
                          [self = shared_from_this(), reader = std::move(reader), &parser](
                              beast::error_code ec, size_t) {
                            self->reading_ = false;
                            if (self->broken_) return;
                            if (ec) return self->Break(ec, "reset");
                            Entry answered = std::move(self->queue_.front());
                            self->queue_.pop_front();
                            --self->written_;
                            if (answered.alone) --self->alone_;
                            if (self->queue_.empty())
                              self->idle_since_ = self->clock_.MonotonicNow();
                            const bool keep_alive = parser.keep_alive();
                            answered.exchange->OnAnswer();
                            if (!keep_alive)
                              return self->Break(beast::http::error::end_of_stream, "reset");
                            self->ReadNext();
                          });
}

void UpstreamConnection::Abort() { Break(asio::error::operation_aborted, "reset"); }

void UpstreamConnection::Break(const beast::error_code& ec, const char* what) {
  if (broken_) return;
  broken_ = true;
  beast::error_code ignored;
  stream_.close(ignored);
  std::deque<Entry> failed = std::move(queue_);
  queue_.clear();
  written_ = writing_ = alone_ = 0;
  for (Entry& e : failed) e.exchange->OnFailure(ec, what);
}

}  // namespace closedloop
