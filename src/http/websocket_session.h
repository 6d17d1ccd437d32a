// Internal to the http component: one WebSocket connection after the upgrade
// (see websocket_handler.h for the contract with routes).
//
// Messages are read one at a time and answered in order: each takes a slot in a
// bounded queue (server.websocket_max_queued) that its reply fills, now or later
// (a handler that forwards the message), and slots are written front first. When
// the queue is full, reading pauses until half of it is written, so a client that
// does not read its replies (or sends faster than they are made) is slowed by TCP
// flow control instead of growing our memory. Keep-alive: Beast's
// idle timeout pings a silent peer and closes it when no pong comes back.
// Close codes: a binary message 1003 (unsupported data), a message over
// websocket_max_message_bytes 1009, invalid UTF-8 1007 (Beast), server shutdown
// 1001 (going away); the client's close is answered.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>

#include "http/session.h"
#include "http/websocket_handler.h"

namespace closedloop {

template <class Stream>  // PlainStream or TlsStream; both instantiated in the .cc
class BasicWebSocketSession : public std::enable_shared_from_this<BasicWebSocketSession<Stream>> {
 public:
  // `request` is the upgrade request (its admissions already passed).
  BasicWebSocketSession(Stream stream, ServerShared& shared, HttpRequest request,
                        std::shared_ptr<WebSocketHandler> handler, std::string principal,
                        std::vector<std::string> scopes, std::string client_ip);
  ~BasicWebSocketSession();
  void Start();

 private:
  void Read();
  void OnRead(boost::beast::error_code ec);
  // The reply for message `seq`, on the session's io thread.
  void Fill(uint64_t seq, std::string reply);
  void Write();
  void OnWrite(boost::beast::error_code ec);
  void Close(boost::beast::websocket::close_code code);
  bool AdmitMessage(unsigned& status, std::string& error_json);

  boost::beast::websocket::stream<Stream> ws_;
  ServerShared& shared_;
  const HttpRequest request_;
  const std::shared_ptr<WebSocketHandler> handler_;
  const std::string principal_;
  const std::vector<std::string> scopes_;
  const std::string client_ip_;
  boost::beast::flat_buffer buffer_;
  struct Slot {
    std::string reply;
    bool ready = false;
  };
  std::deque<Slot> outbox_;  // one per message not yet written, in message order
  uint64_t front_seq_ = 0;   // the message number of outbox_.front()
  uint64_t next_seq_ = 0;    // the number the next message gets
  bool writing_ = false;
  bool paused_ = false;   // reading waits for the outbox to drain
  bool closing_ = false;  // no more reads or writes once a close started
};

}  // namespace closedloop
