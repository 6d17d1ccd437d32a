#include "http/stream_message.h"

#include <simdjson.h>
#include <boost/beast/websocket/rfc6455.hpp>

#include "core/json_writer.h"

namespace closedloop {

std::string StreamAnswer(std::string_view id_json, unsigned status, std::string_view body) {
  std::string out = "{\"id\":";
  out.append(id_json).append(",\"status\":").append(std::to_string(status));
  std::string_view rest = body.size() >= 2 && body.front() == '{' ? body.substr(1) : "}";
  if (rest != "}") out.push_back(',');
  out.append(rest);
  return out;
}

namespace {

std::nullopt_t Refuse(std::string& refusal, std::string_view id_json, std::string_view message) {
  refusal = StreamAnswer(id_json, 400, ErrorBody(message));
  return std::nullopt;
}

}  // namespace

std::optional<StreamMessage> ParseStreamMessage(std::string_view text, std::string& refusal) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.parse(text.data(), text.size()).get(doc)) {
    return Refuse(refusal, "null",
                  std::string("message is not JSON: ") + simdjson::error_message(err));
  }
  simdjson::dom::object obj;
  if (doc.get(obj)) return Refuse(refusal, "null", "message must be a JSON object");
  StreamMessage m;
  m.id_json = "null";
  std::string_view model, message_text;
  bool has_id = false, has_model = false, has_text = false;
  for (auto field : obj) {
    if (field.key == "id") {
      if (!field.value.is_string() && !field.value.is_int64() && !field.value.is_uint64()) {
        return Refuse(refusal, "null", "field 'id' must be a string or an integer");
      }
      m.id_json = simdjson::to_string(field.value);
      has_id = true;
    } else if (field.key == "model") {
      has_model = !field.value.get(model) && !model.empty();
    } else if (field.key == "text") {
      has_text = !field.value.get(message_text);
    } else if (field.key == "top_k") {
      int64_t k = 0;
      if (field.value.get(k)) return Refuse(refusal, m.id_json, "field 'top_k' must be an integer");
      m.top_k = k;
    } else {
      return Refuse(
          refusal, m.id_json,
          "unknown field '" + std::string(field.key) + "' (expected id, model, text, top_k)");
    }
  }
  if (!has_id)
    return Refuse(refusal, "null", "field 'id' is required (it is echoed in the answer)");
  if (!has_model) return Refuse(refusal, m.id_json, "field 'model' must be a non-empty string");
  if (!has_text) return Refuse(refusal, m.id_json, "field 'text' must be a string");
  m.model = std::string(model);
  m.text = std::string(message_text);
  return m;
}

std::string StreamPredictBody(const StreamMessage& message) {
  JsonWriter w(64 + message.text.size());
  w.BeginObject().Key("model").String(message.model).Key("text").String(message.text);
  if (message.top_k) w.Key("top_k").Int(*message.top_k);
  w.EndObject();
  return std::move(w).Take();
}

void RegisterStreamRoute(Router& router, std::shared_ptr<WebSocketHandler> handler) {
  router.Add(boost::beast::http::verb::get, "/v1/stream", [handler](RequestContext& ctx) {
    if (!boost::beast::websocket::is_upgrade(ctx.request)) {
      ctx.Json(426, ErrorBody("/v1/stream is a WebSocket endpoint: send a GET with "
                              "'Upgrade: websocket'"));
      ctx.headers.emplace_back("Upgrade", "websocket");
      return;
    }
    ctx.websocket = handler;
    ctx.status = 101;
  });
}

std::optional<StreamMessage> AdmitStreamMessage(const WebSocketMessage& m,
                                                const WebSocketReply& reply) {
  std::string refusal;
  std::optional<StreamMessage> message = ParseStreamMessage(m.text, refusal);
  if (!message) {
    reply(std::move(refusal));
    return std::nullopt;
  }
  unsigned status = 0;
  if (m.admit && !m.admit(status, refusal)) {
    reply(StreamAnswer(message->id_json, status, refusal));
    return std::nullopt;
  }
  return message;
}

}  // namespace closedloop
