#include "rollout/rollout_api.h"

#include <simdjson.h>

#include <charconv>

#include "core/json_writer.h"
#include "http/json_fields.h"
#include "http/query.h"

namespace closedloop {

namespace http = boost::beast::http;

std::string RolloutJson(const RolloutRow& r, bool with_decisions) {
  JsonWriter w(2048);
  w.BeginObject().Key("id").String(r.id).Key("model").String(r.model);
  w.Key("champion_version").Int(r.champion_version);
  w.Key("challenger_version").Int(r.challenger_version);
  w.Key("state").String(r.state).Key("traffic_percent").Double(r.traffic_percent);
  w.Key("created_ms").Int(r.created_ms).Key("updated_ms").Int(r.updated_ms);
  w.Key("stage_started_ms").Int(r.stage_started_ms);
  w.Key("evidence").Raw(r.evidence_json);
  if (with_decisions) {
    w.Key("decisions").BeginArray();
    for (const auto& d : r.decisions) {
      w.BeginObject().Key("ts_ms").Int(d.ts_ms).Key("stage").String(d.stage);
      w.Key("traffic_percent").Double(d.traffic_percent).Key("decision").String(d.decision);
      w.Key("reasons").String(d.reasons).Key("evidence").Raw(d.evidence_json).EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  return std::move(w).Take();
}

void RolloutApi::Register(Router& router) {
  router.Add(http::verb::get, "/v1/rollouts", [this](RequestContext& c) { List(c); });
  router.Add(http::verb::get, "/v1/rollouts/{id}", [this](RequestContext& c) { Get(c); });
  router.Add(http::verb::post, "/v1/rollouts", [this](RequestContext& c) { Start(c); });
  router.Add(http::verb::post, "/v1/rollouts/{id}/rollback",
             [this](RequestContext& c) { End(c, false); });
  router.Add(http::verb::post, "/v1/rollouts/{id}/promote",
             [this](RequestContext& c) { End(c, true); });
}

void RolloutApi::List(RequestContext& ctx) {
  std::string target(ctx.request.target());
  std::string model = QueryParam(target, "model").value_or("");
  std::string state = QueryParam(target, "state").value_or("all");
  if (state != "active" && state != "all") {
    return ctx.Error(InvalidArgument("parameter 'state' must be active or all"));
  }
  auto limit = QueryInt(target, "limit", 50, 1, 1000);
  if (!limit.ok()) return ctx.Error(limit.status());
  auto rows = controller_.store().List(model, state == "active", *limit);
  if (!rows.ok()) return ctx.Error(rows.status());
  JsonWriter w;
  w.BeginObject().Key("rollouts").BeginArray();
  for (const auto& r : *rows) w.Raw(RolloutJson(r, false));
  w.EndArray().EndObject();
  ctx.Json(200, std::move(w).Take());
}

void RolloutApi::Get(RequestContext& ctx) {
  auto row = controller_.store().Get(std::string(ctx.Param("id")));
  if (!row.ok()) return ctx.Error(row.status());
  ctx.Json(200, RolloutJson(*row, true));
}

namespace {

simdjson::dom::parser& Parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

}  // namespace

void RolloutApi::Start(RequestContext& ctx) {
  simdjson::dom::element doc;
  auto body = ctx.request.body();
  if (auto e = Parser().parse(body.data(), body.size()).get(doc)) {
    return ctx.Error(InvalidArgument(std::string("malformed JSON: ") + simdjson::error_message(e)));
  }
  simdjson::dom::object obj;
  if (doc.get(obj)) return ctx.Error(InvalidArgument("request body must be a JSON object"));
  std::string model;
  int64_t version = 0;
  for (auto f : obj) {
    if (f.key == "model") {
      std::string_view s;
      if (f.value.get(s) || s.empty()) {
        return ctx.Error(InvalidArgument("field 'model' must be a model name"));
      }
      model = std::string(s);
    } else if (f.key == "version") {
      if (f.value.get(version) || version < 1) {
        return ctx.Error(InvalidArgument("field 'version' must be a positive integer"));
      }
    } else {
      return ctx.Error(
          InvalidArgument("unknown field '" + std::string(f.key) + "' (expected: model, version)"));
    }
  }
  if (model.empty()) return ctx.Error(InvalidArgument("missing field 'model'"));
  if (version == 0) return ctx.Error(InvalidArgument("missing field 'version'"));
  auto row = controller_.Start(model, version);
  if (!row.ok()) return ctx.Error(row.status());
  ctx.Json(201, RolloutJson(*row, false));
}

void RolloutApi::End(RequestContext& ctx, bool promote) {
  std::string reason = "no reason given";
  if (!ctx.request.body().empty()) {
    auto fields = StringFields(ctx.request.body(), {"reason"});
    if (!fields.ok()) return ctx.Error(fields.status());
    if (fields->count("reason")) reason = (*fields)["reason"];
  }
  std::string id(ctx.Param("id"));
  auto row = promote ? controller_.Promote(id, reason) : controller_.Rollback(id, reason);
  if (!row.ok()) return ctx.Error(row.status());
  ctx.Json(200, RolloutJson(*row, true));
}

}  // namespace closedloop
