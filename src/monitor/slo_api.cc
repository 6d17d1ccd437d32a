#include "monitor/slo_api.h"

#include "core/clock.h"
#include "core/json_writer.h"
#include "http/query.h"

namespace closedloop {

namespace http = boost::beast::http;

void SloApi::Register(Router& router) {
  router.Add(http::verb::get, "/v1/slo", [this](RequestContext& c) { Slo(c); });
  router.Add(http::verb::get, "/v1/alerts", [this](RequestContext& c) { Alerts(c); });
  router.Add(http::verb::get, "/v1/metrics/history", [this](RequestContext& c) { History(c); });
}

void SloApi::History(RequestContext& ctx) {
  auto minutes = QueryInt(std::string(ctx.request.target()), "minutes", 60, 1, 10080);
  if (!minutes.ok()) return ctx.Error(minutes.status());
  if (history_ == nullptr) return ctx.Json(200, MetricsHistoryJson(0, {}));
  const int64_t since = history_->NowMs() - *minutes * 60000;
  ctx.Json(200, MetricsHistoryJson(history_->interval_ms(), history_->Points(since)));
}

void SloApi::Slo(RequestContext& ctx) {
  JsonWriter w(4096);
  w.BeginObject().Key("slos").BeginArray();
  if (slo_ != nullptr) {
    for (const SloStatus& s : slo_->Status()) w.Raw(SloStatusJson(s));
  }
  w.EndArray().EndObject();
  ctx.Json(200, std::move(w).Take());
}

void SloApi::Alerts(RequestContext& ctx) {
  std::string target(ctx.request.target());
  std::string state = QueryParam(target, "state").value_or("");
  if (!state.empty() && state != "firing" && state != "resolved") {
    return ctx.Error(InvalidArgument("parameter 'state' must be 'firing' or 'resolved'"));
  }
  auto limit = QueryInt(target, "limit", 100, 1, 10000);
  if (!limit.ok()) return ctx.Error(limit.status());
  auto rows = alerts_.List(state, *limit);
  if (!rows.ok()) return ctx.Error(rows.status());
  JsonWriter w(4096);
  w.BeginObject().Key("alerts").BeginArray();
  for (const AlertRow& a : *rows) {
    w.BeginObject()
        .Key("id")
        .String(a.id)
        .Key("key")
        .String(a.key)
        .Key("name")
        .String(a.name)
        .Key("severity")
        .String(a.severity)
        .Key("state")
        .String(a.state)
        .Key("summary")
        .String(a.summary)
        .Key("labels")
        .Raw(a.labels_json)
        .Key("details")
        .Raw(a.details_json)
        .Key("started_at")
        .String(FormatUtc(a.started_ms))
        .Key("updated_at")
        .String(FormatUtc(a.updated_ms));
    if (a.resolved_ms > 0) w.Key("resolved_at").String(FormatUtc(a.resolved_ms));
    w.Key("deliveries_pending").Int(a.deliveries_pending).EndObject();
  }
  w.EndArray().EndObject();
  ctx.Json(200, std::move(w).Take());
}

}  // namespace closedloop
