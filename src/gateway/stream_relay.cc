#include "gateway/stream_relay.h"

#include <optional>
#include <string>

#include "core/trace_context.h"
#include "http/request_context.h"
#include "http/stream_message.h"

namespace closedloop {

namespace http = boost::beast::http;

namespace {

// One relayed message: the predict request made from it, its context, and where
// the answer goes. Lives until the proxy has answered (the deferred holds it).
struct RelayedMessage {
  HttpRequest request;
  std::string request_id;
  std::string client_ip;
  std::string id_json;
  WebSocketReply reply;
  std::optional<RequestContext> ctx;
};

class RelayAnswer final : public DeferredResponse {
 public:
  explicit RelayAnswer(std::shared_ptr<RelayedMessage> m) : m_(std::move(m)) {}
  void Finish(std::function<void(RequestContext&)> fill) override {
    RequestContext& ctx = *m_->ctx;
    fill(ctx);
    m_->reply(StreamAnswer(m_->id_json, ctx.status, ctx.body));
  }

 private:
  std::shared_ptr<RelayedMessage> m_;
};

}  // namespace

void StreamRelay::Register(Router& router) { RegisterStreamRoute(router, shared_from_this()); }

void StreamRelay::OnMessage(const WebSocketMessage& m, WebSocketReply reply) {
  std::optional<StreamMessage> message = AdmitStreamMessage(m, reply);
  if (!message) return;
  auto r = std::make_shared<RelayedMessage>();
  r->request = HttpRequest(http::verb::post, "/v1/predict", 11);
  r->request.set(http::field::content_type, "application/json");
  if (m.upgrade_headers != nullptr) {  // the replica may check the credentials too
    auto auth = m.upgrade_headers->find(http::field::authorization);
    if (auth != m.upgrade_headers->end()) r->request.set(http::field::authorization, auth->value());
    auto key = m.upgrade_headers->find("X-Api-Key");
    if (key != m.upgrade_headers->end()) r->request.set("X-Api-Key", key->value());
  }
  r->request.body() = StreamPredictBody(*message);
  r->request_id = std::string(m.request_id);
  r->client_ip = std::string(m.client_ip);
  r->id_json = std::move(message->id_json);
  r->reply = std::move(reply);
  RequestContext& ctx = r->ctx.emplace(r->request, r->request_id);
  ctx.principal = std::string(m.principal);
  ctx.client_ip = r->client_ip;
  ctx.executor = m.executor;
  ctx.trace.trace_id = RandomTraceId();  // each message its own trace, like a request
  ctx.trace.span_id = RandomSpanId();
  // Only the proxy defers, once: the hook holds the message weakly (no cycle
  // through the context it lives in), the proxy's deferred answer strongly.
  ctx.defer_hook = [weak =
                        std::weak_ptr<RelayedMessage>(r)]() -> std::shared_ptr<DeferredResponse> {
    return std::make_shared<RelayAnswer>(weak.lock());
  };
  proxy_.Forward(ctx);
  if (!ctx.deferred) r->reply(StreamAnswer(r->id_json, ctx.status, ctx.body));
}

}  // namespace closedloop
