// UpstreamConnection: one keep-alive HTTP/1.1 connection from the gateway to a
// replica, shared by the requests forwarded on it (HTTP/1.1 pipelining).
//
// - Requests added in the same turn of the io loop go out in one write: the
//   write is posted, so every request that arrives before it runs joins it.
// - Answers are read in order, each into its own request's parser, and handed
//   to that request (a replica answers pipelined requests in order).
// - A request that must not be pipelined (one that is not idempotent: if the
//   connection fails nobody knows whether it ran) goes alone: it is added only
//   to an empty connection, and nothing joins it.
// - A failure (connect, write, read, an answer with `Connection: close`, or
//   Abort()) fails every request still on the connection, in order, each with
//   what failed; each decides itself whether to retry elsewhere. The connection
//   is broken from then on and takes nothing.
//
// Thread safety: none. Only its io thread uses it (its socket runs on that
// thread's io_context), and it calls its exchanges on that thread.
// Ownership: shared by its io thread's pool and the handlers of its pending
// operations; it holds each exchange until that one is answered or failed.
#pragma once

#include <chrono>
#include <cstddef>
#include <deque>
#include <memory>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>

#include "core/clock.h"
#include "gateway/upstream_response_parser.h"

namespace closedloop {

// One request forwarded on an UpstreamConnection.
class UpstreamExchange {
 public:
  virtual ~UpstreamExchange() = default;
  // Appends the request's bytes; they stay valid until OnAnswer or OnFailure.
  virtual void AppendWire(std::vector<boost::asio::const_buffer>& wire) = 0;
  // A fresh parser for its answer, owned by the exchange (valid until OnAnswer or
  // OnFailure).
  virtual UpstreamResponseParser& StartAnswer() = 0;
  virtual void OnSent() = 0;    // its bytes are written
  virtual void OnAnswer() = 0;  // its parser holds the whole answer
  // The connection failed before its answer; `what` is "connect" or "reset".
  virtual void OnFailure(const boost::beast::error_code& ec, const char* what) = 0;
};

class UpstreamConnection : public std::enable_shared_from_this<UpstreamConnection> {
 public:
  using Stream = boost::asio::basic_stream_socket<boost::asio::ip::tcp,
                                                  boost::asio::io_context::executor_type>;
  using SteadyTime = std::chrono::steady_clock::time_point;

  // A new connection, connecting at once; requests added meanwhile wait for it.
  // `clock` must outlive it.
  static std::shared_ptr<UpstreamConnection> Open(boost::asio::io_context& ioc,
                                                  const boost::asio::ip::tcp::endpoint& endpoint,
                                                  const Clock& clock);
  UpstreamConnection(boost::asio::io_context& ioc, const Clock& clock);  // use Open()

  // Whether `alone` (see above) or a pipelined request may be added now: not
  // broken, nothing alone on it, and fewer than `depth` requests (none for one
  // that goes alone).
  bool Accepts(bool alone, size_t depth) const;
  // Requests on it (waiting to be written, written, or being answered).
  size_t load() const { return queue_.size(); }
  // Requests added since the last write started: a new one joins their write.
  bool has_unsent() const { return queue_.size() > written_ + writing_; }
  bool broken() const { return broken_; }
  // When it last became empty (its creation time until then).
  SteadyTime idle_since() const { return idle_since_; }
  // For an empty connection: false when the replica closed it (or sent stray
  // bytes) while it was idle.
  bool StillOpen();

  void Add(std::shared_ptr<UpstreamExchange> exchange, bool alone);
  // Closes the connection: every request on it fails ("reset").
  void Abort();

 private:
  struct Entry {
    std::shared_ptr<UpstreamExchange> exchange;
    bool alone;
  };
  void ScheduleWrite();
  void Write();
  void ReadNext();
  void Break(const boost::beast::error_code& ec, const char* what);

  Stream stream_;
  const Clock& clock_;
  boost::beast::flat_buffer buffer_;
  std::deque<Entry> queue_;                      // in the order written (and answered)
  size_t written_ = 0;                           // queue_'s first `written_` are written ...
  size_t writing_ = 0;                           // ... the next `writing_` are being written
  std::vector<boost::asio::const_buffer> wire_;  // what the write in progress sends
  bool connected_ = false;
  bool broken_ = false;
  bool write_posted_ = false;
  bool reading_ = false;
  size_t alone_ = 0;  // entries that go alone (0 or 1)
  SteadyTime idle_since_;
};

}  // namespace closedloop
