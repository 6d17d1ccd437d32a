#include "monitor/drift_api.h"

#include <charconv>

#include "core/json_writer.h"
#include "http/query.h"

namespace closedloop {

void DriftApi::Register(Router& router) {
  router.Add(boost::beast::http::verb::get, "/v1/drift", [this](RequestContext& c) { Get(c); });
}

void DriftApi::Get(RequestContext& ctx) {
  std::string target(ctx.request.target());
  std::string model = QueryParam(target, "model").value_or("");
  std::vector<ModelDriftReport> reports;
  if (QueryParam(target, "window") || QueryParam(target, "minutes")) {
    auto n = QueryInt(target, "window", 0, 2, 1000000);
    if (!n.ok()) return ctx.Error(n.status());
    auto minutes = QueryInt(target, "minutes", 0, 1, 525600);
    if (!minutes.ok()) return ctx.Error(minutes.status());
    if (model.empty()) {
      return ctx.Error(InvalidArgument("parameters 'window' and 'minutes' need 'model'"));
    }
    auto r = monitor_.Evaluate(model, *n, *minutes);
    if (!r.ok()) return ctx.Error(r.status());
    reports.push_back(std::move(r).value());
  } else {
    reports = monitor_.Latest(model);
    if (reports.empty() && !model.empty()) {
      auto r = monitor_.Evaluate(model);
      if (!r.ok()) return ctx.Error(r.status());
      reports.push_back(std::move(r).value());
    }
  }
  auto limit = QueryInt(target, "limit", 1000, 1, 1000);
  if (!limit.ok()) return ctx.Error(limit.status());
  if (reports.size() > static_cast<size_t>(*limit)) reports.resize(static_cast<size_t>(*limit));
  std::string histograms = QueryParam(target, "histograms").value_or("false");
  if (histograms != "true" && histograms != "false") {
    return ctx.Error(InvalidArgument("parameter 'histograms' must be true or false"));
  }
  JsonWriter w(4096);
  w.BeginObject().Key("reports").BeginArray();
  for (const auto& r : reports) w.Raw(ModelDriftReportJson(r, histograms == "true"));
  w.EndArray().EndObject();
  ctx.Json(200, std::move(w).Take());
}

}  // namespace closedloop
