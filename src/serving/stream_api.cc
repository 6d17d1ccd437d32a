#include "serving/stream_api.h"

#include <simdjson.h>
#include <boost/beast/websocket/rfc6455.hpp>

#include "core/json_writer.h"

namespace closedloop {

namespace http = boost::beast::http;

namespace {

// {"id":ID,"status":S, ...the rest of `body`'s members}
std::string Answer(std::string_view id_json, unsigned status, std::string_view body) {
  std::string out = "{\"id\":";
  out.append(id_json).append(",\"status\":").append(std::to_string(status));
  std::string_view rest = body.size() >= 2 && body.front() == '{' ? body.substr(1) : "}";
  if (rest != "}") out.push_back(',');
  out.append(rest);
  return out;
}

std::string Refuse(std::string_view id_json, unsigned status, std::string_view message) {
  return Answer(id_json, status, ErrorBody(message));
}

}  // namespace

void StreamApi::Register(Router& router) {
  router.Add(http::verb::get, "/v1/stream", [self = shared_from_this()](RequestContext& ctx) {
    if (!boost::beast::websocket::is_upgrade(ctx.request)) {
      ctx.Json(426, ErrorBody("/v1/stream is a WebSocket endpoint: send a GET with "
                              "'Upgrade: websocket'"));
      ctx.headers.emplace_back("Upgrade", "websocket");
      return;
    }
    ctx.websocket = self;
    ctx.status = 101;
  });
}

std::string StreamApi::OnMessage(const WebSocketMessage& m) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto err = parser.parse(m.text.data(), m.text.size()).get(doc)) {
    return Refuse("null", 400, std::string("message is not JSON: ") + simdjson::error_message(err));
  }
  simdjson::dom::object obj;
  if (doc.get(obj)) return Refuse("null", 400, "message must be a JSON object");
  std::string id = "null";
  std::string_view model, text;
  int64_t top_k = 0;
  bool has_id = false, has_model = false, has_text = false, has_top_k = false;
  for (auto field : obj) {
    if (field.key == "id") {
      if (!field.value.is_string() && !field.value.is_int64() && !field.value.is_uint64()) {
        return Refuse("null", 400, "field 'id' must be a string or an integer");
      }
      id = simdjson::to_string(field.value);
      has_id = true;
    } else if (field.key == "model") {
      has_model = !field.value.get(model);
      if (!has_model || model.empty()) {
        has_model = false;
      }
    } else if (field.key == "text") {
      has_text = !field.value.get(text);
    } else if (field.key == "top_k") {
      has_top_k = !field.value.get(top_k);
      if (!has_top_k) return Refuse(id, 400, "field 'top_k' must be an integer");
    } else {
      return Refuse(
          id, 400,
          "unknown field '" + std::string(field.key) + "' (expected id, model, text, top_k)");
    }
  }
  if (!has_id) return Refuse("null", 400, "field 'id' is required (it is echoed in the answer)");
  if (!has_model) return Refuse(id, 400, "field 'model' must be a non-empty string");
  if (!has_text) return Refuse(id, 400, "field 'text' must be a string");

  unsigned status = 0;
  std::string refusal;
  if (m.admit && !m.admit(status, refusal)) return Answer(id, status, refusal);

  HttpRequest req(http::verb::post, "/v1/predict", 11);
  req.set(http::field::content_type, "application/json");
  JsonWriter w(64 + text.size());
  w.BeginObject().Key("model").String(model).Key("text").String(text);
  if (has_top_k) w.Key("top_k").Int(top_k);
  w.EndObject();
  req.body() = std::move(w).Take();
  RequestContext ctx(req, m.request_id);
  ctx.principal = std::string(m.principal);
  predict_.Predict(ctx);
  return Answer(id, ctx.status, ctx.body);
}

}  // namespace closedloop
