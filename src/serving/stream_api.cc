#include "serving/stream_api.h"

#include "http/stream_message.h"

namespace closedloop {

namespace http = boost::beast::http;

void StreamApi::Register(Router& router) { RegisterStreamRoute(router, shared_from_this()); }

void StreamApi::OnMessage(const WebSocketMessage& m, WebSocketReply reply) {
  std::optional<StreamMessage> message = AdmitStreamMessage(m, reply);
  if (!message) return;
  HttpRequest req(http::verb::post, "/v1/predict", 11);
  req.set(http::field::content_type, "application/json");
  req.body() = StreamPredictBody(*message);
  RequestContext ctx(req, m.request_id);
  ctx.principal = std::string(m.principal);
  predict_.Predict(ctx);  // synchronous: the answer goes out in this call
  reply(StreamAnswer(message->id_json, ctx.status, ctx.body));
}

}  // namespace closedloop
