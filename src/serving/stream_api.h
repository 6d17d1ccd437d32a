// StreamApi: predictions over a WebSocket, GET /v1/stream.
//
// The upgrade request is authenticated like any route (scope predict); then each
// text message {"id": "...", "model": "name[@alias]", "text": "...", "top_k": 3}
// is answered — in order — with the prediction JSON of POST /v1/predict plus the
// message's "id" and a "status": {"id":"m1","status":200,"request_id":...,"label":...}.
// A bad message or a refused one (rate limits apply per message) gets
// {"id":...,"status":400|404|429,...,"error":"..."} and the connection stays open.
// A plain GET (no Upgrade) is 426. Every answered message is a logged prediction.
//
// Thread safety: as PredictApi; no per-connection state here.
#pragma once

#include <memory>

#include "http/router.h"
#include "http/websocket_handler.h"
#include "serving/predict_api.h"

namespace closedloop {

class StreamApi final : public WebSocketHandler, public std::enable_shared_from_this<StreamApi> {
 public:
  // `predict` must outlive the API.
  explicit StreamApi(PredictApi& predict) : predict_(predict) {}
  // Registers GET /v1/stream; the router holds a reference to this object.
  void Register(Router& router);
  void OnMessage(const WebSocketMessage& message, WebSocketReply reply) override;

 private:
  PredictApi& predict_;
};

}  // namespace closedloop
