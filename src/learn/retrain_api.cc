#include "learn/retrain_api.h"

#include <simdjson.h>

#include "core/json_writer.h"

namespace closedloop {

namespace http = boost::beast::http;

void RetrainApi::Register(Router& router) {
  router.Add(http::verb::post, "/v1/retrain", [this](RequestContext& c) { Request(c); });
  router.Add(http::verb::get, "/v1/retrains", [this](RequestContext& c) { List(c); });
}

void RetrainApi::Request(RequestContext& ctx) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  auto body = ctx.request.body();
  if (auto e = parser.parse(body.data(), body.size()).get(doc)) {
    return ctx.Error(InvalidArgument(std::string("malformed JSON: ") + simdjson::error_message(e)));
  }
  simdjson::dom::object obj;
  if (doc.get(obj)) return ctx.Error(InvalidArgument("request body must be a JSON object"));
  std::string model;
  for (auto f : obj) {
    std::string_view s;
    if (f.key != "model") {
      return ctx.Error(
          InvalidArgument("unknown field '" + std::string(f.key) + "' (expected: model)"));
    }
    if (f.value.get(s) || s.empty()) {
      return ctx.Error(InvalidArgument("field 'model' must be a model name"));
    }
    model = std::string(s);
  }
  if (model.empty()) return ctx.Error(InvalidArgument("missing field 'model'"));
  if (auto c = registry_.GetVersionByAlias(model, "champion"); !c.ok()) {
    return ctx.Error(NotFound("model '" + model + "' has no @champion to retrain from"));
  }
  if (!scheduler_.Request(model, "manual")) {
    return ctx.Json(409, ErrorBody("a retraining of '" + model + "' is already queued"));
  }
  JsonWriter w;
  w.BeginObject().Key("model").String(model).Key("status").String("queued").EndObject();
  ctx.Json(202, std::move(w).Take());
}

void RetrainApi::List(RequestContext& ctx) {
  RetrainScheduler::State s = scheduler_.state();
  JsonWriter w(4096);
  w.BeginObject().Key("running");
  s.running.empty() ? w.Null() : w.String(s.running);
  w.Key("queued").BeginArray();
  for (const auto& q : s.queued) w.String(q);
  w.EndArray().Key("recent").BeginArray();
  for (const auto& o : s.recent) w.Raw(RetrainOutcomeJson(o));
  w.EndArray().EndObject();
  ctx.Json(200, std::move(w).Take());
}

}  // namespace closedloop
