// WebSocketHandler: what a route that speaks WebSocket provides. The route's
// HTTP handler sets RequestContext::websocket (and status 101) on an upgrade
// request; the server then completes the handshake — after the admission checks
// (authentication, rate limits) ran on that request — and hands every text
// message of the connection to OnMessage, in order, on the connection's io
// thread. The reply (JSON text) is queued for the client.
//
// Thread safety: OnMessage is called from many io threads at once (one call per
// connection at a time); implementations must not keep per-connection state.
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace closedloop {

struct WebSocketMessage {
  std::string_view text;
  std::string_view request_id;  // a fresh id for this message (a ULID)
  std::string_view principal;   // who authenticated the upgrade ("" without [auth])
  const std::vector<std::string>* scopes = nullptr;
  std::string_view client_ip;
  // The per-message checks (rate limits). True: go on. False: refused, and
  // `status` / `error_json` ({"error": "..."}) say how to answer.
  std::function<bool(unsigned& status, std::string& error_json)> admit;
};

class WebSocketHandler {
 public:
  virtual ~WebSocketHandler() = default;
  virtual std::string OnMessage(const WebSocketMessage& message) = 0;
};

}  // namespace closedloop
