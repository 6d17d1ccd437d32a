#include "learn/retrain_api.h"

#include "core/json_writer.h"
#include "http/json_fields.h"

namespace closedloop {

namespace http = boost::beast::http;

void RetrainApi::Register(Router& router) {
  router.Add(http::verb::post, "/v1/retrain", [this](RequestContext& c) { Request(c); });
  router.Add(http::verb::get, "/v1/retrains", [this](RequestContext& c) { List(c); });
}

void RetrainApi::Request(RequestContext& ctx) {
  auto fields = StringFields(ctx.request.body(), {"model"});
  if (!fields.ok()) return ctx.Error(fields.status());
  const std::string model = (*fields)["model"];
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
