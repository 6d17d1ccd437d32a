// StreamRelay: GET /v1/stream (WebSocket predictions) at the gateway role.
//
// The gateway accepts the upgrade itself — authenticated like any request
// (scope predict), counted by the rate limits — and relays each message as its
// own POST /v1/predict through the Proxy: balanced over the replicas, pooled
// connections, circuit breakers, timeouts and one retry like any forwarded
// predict, with the upgrade's credentials and a traceparent. So a stream is not
// pinned to one replica, and a replica that dies mid-stream costs no message.
// Messages are parsed and answered in the replica's format (http/stream_message);
// rate limits apply per message at the gateway; a refused or failed message
// (429, 502, 503, 504) gets {"id","status","error"} and the connection stays
// open; the replica logs each prediction under the request_id in its answer.
//
// Thread safety: as WebSocketHandler; the relays of one connection run on its
// io thread.
#pragma once

#include <memory>

#include "gateway/proxy.h"
#include "http/router.h"
#include "http/websocket_handler.h"

namespace closedloop {

class StreamRelay final : public WebSocketHandler,
                          public std::enable_shared_from_this<StreamRelay> {
 public:
  // `proxy` must outlive the relay and every connection using it.
  explicit StreamRelay(Proxy& proxy) : proxy_(proxy) {}
  // Registers GET /v1/stream (before the proxy's catch-all takes every path).
  void Register(Router& router);
  void OnMessage(const WebSocketMessage& message, WebSocketReply reply) override;

 private:
  Proxy& proxy_;
};

}  // namespace closedloop
