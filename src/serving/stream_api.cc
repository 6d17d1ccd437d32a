#include "serving/stream_api.h"

#include "http/stream_message.h"

namespace closedloop {

namespace http = boost::beast::http;

void StreamApi::Register(Router& router) {
  router.Add(http::verb::get, "/v1/stream",
             [self = shared_from_this()](RequestContext& ctx) { AcceptStreamUpgrade(ctx, self); });
}

void StreamApi::OnMessage(const WebSocketMessage& m, WebSocketReply reply) {
  std::string refusal;
  std::optional<StreamMessage> message = ParseStreamMessage(m.text, refusal);
  if (!message) return reply(std::move(refusal));
  unsigned status = 0;
  if (m.admit && !m.admit(status, refusal)) {
    return reply(StreamAnswer(message->id_json, status, refusal));
  }
  HttpRequest req(http::verb::post, "/v1/predict", 11);
  req.set(http::field::content_type, "application/json");
  req.body() = StreamPredictBody(*message);
  RequestContext ctx(req, m.request_id);
  ctx.principal = std::string(m.principal);
  predict_.Predict(ctx);  // synchronous: the answer goes out in this call
  reply(StreamAnswer(message->id_json, ctx.status, ctx.body));
}

}  // namespace closedloop
