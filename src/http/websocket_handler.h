// WebSocketHandler: what a route that speaks WebSocket provides. The route's
// HTTP handler sets RequestContext::websocket (and status 101) on an upgrade
// request; the server then completes the handshake — after the admission checks
// (authentication, rate limits) ran on that request — and hands every text
// message of the connection to OnMessage, in order, on the connection's io
// thread. Each message gets exactly one reply (JSON text), now or later (a
// handler that forwards the message elsewhere); replies go out in the order of
// the messages whatever order they are made in.
//
// Thread safety: OnMessage is called from many io threads at once (one call per
// connection at a time); implementations must not keep per-connection state.
// `reply` may be called from any thread.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/beast/http/fields.hpp>

namespace closedloop {

struct WebSocketMessage {
  std::string_view text;
  std::string_view request_id;  // a fresh id for this message (a ULID)
  std::string_view principal;   // who authenticated the upgrade ("" without [auth])
  const std::vector<std::string>* scopes = nullptr;
  std::string_view client_ip;
  // The upgrade request's headers (its credentials, for a handler that forwards).
  const boost::beast::http::fields* upgrade_headers = nullptr;
  // The connection's io thread (for a handler's own async I/O).
  boost::asio::any_io_executor executor;
  // The per-message checks (rate limits); call it within OnMessage only. True: go
  // on. False: refused, and `status` / `error_json` ({"error": "..."}) say how to
  // answer.
  std::function<bool(unsigned& status, std::string& error_json)> admit;
};

// Delivers the reply to one message; call it exactly once.
using WebSocketReply = std::function<void(std::string reply)>;

class WebSocketHandler {
 public:
  virtual ~WebSocketHandler() = default;
  virtual void OnMessage(const WebSocketMessage& message, WebSocketReply reply) = 0;
};

}  // namespace closedloop
