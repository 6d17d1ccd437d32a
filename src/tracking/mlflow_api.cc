#include "tracking/mlflow_api.h"

#include <charconv>
#include <cmath>

#include <simdjson.h>

#include "core/json_writer.h"
#include "http/query.h"
#include "tracking/mlflow_request.h"

namespace closedloop {

namespace http = boost::beast::http;

namespace {

using namespace mlflow_rest;

void WriteExperiment(JsonWriter& w, const Experiment& e) {
  w.BeginObject()
      .Key("experiment_id")
      .String(e.experiment_id)
      .Key("name")
      .String(e.name)
      .Key("artifact_location")
      .String(e.artifact_location)
      .Key("lifecycle_stage")
      .String(e.lifecycle_stage)
      .Key("last_update_time")
      .Int(e.last_update_time)
      .Key("creation_time")
      .Int(e.creation_time)
      .Key("tags");
  WritePairs(w, e.tags);
  w.EndObject();
}

void WriteRunInfo(JsonWriter& w, const RunInfo& r) {
  w.BeginObject()
      .Key("run_id")
      .String(r.run_id)
      .Key("run_uuid")
      .String(r.run_id)
      .Key("run_name")
      .String(r.run_name)
      .Key("experiment_id")
      .String(r.experiment_id)
      .Key("user_id")
      .String(r.user_id)
      .Key("status")
      .String(r.status)
      .Key("start_time")
      .Int(r.start_time);
  if (r.end_time) w.Key("end_time").Int(*r.end_time);
  w.Key("artifact_uri")
      .String(r.artifact_uri)
      .Key("lifecycle_stage")
      .String(r.lifecycle_stage)
      .EndObject();
}

void WriteMetric(JsonWriter& w, const Metric& m) {
  w.BeginObject().Key("key").String(m.key).Key("value");
  if (std::isnan(m.value)) {
    w.String("NaN");
  } else {
    w.Double(m.value);
  }
  w.Key("timestamp").Int(m.timestamp).Key("step").Int(m.step).EndObject();
}

void WriteRun(JsonWriter& w, const Run& r) {
  w.BeginObject().Key("info");
  WriteRunInfo(w, r.info);
  w.Key("data").BeginObject().Key("metrics").BeginArray();
  for (const auto& m : r.metrics) WriteMetric(w, m);
  w.EndArray().Key("params");
  WritePairs(w, r.params);
  w.Key("tags");
  WritePairs(w, r.tags);
  w.EndObject().EndObject();
}

}  // namespace

void MlflowApi::Register(Router& router) {
  auto route = [&](http::verb v, std::string_view path, Handler h) {
    router.Add(v, std::string(kPrefix) + std::string(path), std::move(h));
  };
  route(http::verb::post, "experiments/create",
        Endpoint([this](RequestContext& c, const Params& p) -> Status {
          ASSIGN_OR_RETURN(std::string name, p.Required("name"));
          ASSIGN_OR_RETURN(auto location, p.String("artifact_location"));
          ASSIGN_OR_RETURN(KeyValues tags, p.Pairs("tags"));
          ASSIGN_OR_RETURN(std::string id,
                           store_.CreateExperiment(name, location.value_or(""), tags));
          JsonWriter w;
          w.BeginObject().Key("experiment_id").String(id).EndObject();
          c.Json(200, std::move(w).Take());
          return OkStatus();
        }));
  route(http::verb::get, "experiments/get",
        Endpoint([this](RequestContext& c, const Params& p) -> Status {
          ASSIGN_OR_RETURN(std::string id, p.Required("experiment_id"));
          ASSIGN_OR_RETURN(Experiment e, store_.GetExperiment(id));
          return Reply(c, "experiment", [&](JsonWriter& w) { WriteExperiment(w, e); });
        }));
  route(http::verb::get, "experiments/get-by-name",
        Endpoint([this](RequestContext& c, const Params& p) -> Status {
          ASSIGN_OR_RETURN(std::string name, p.Required("experiment_name"));
          ASSIGN_OR_RETURN(Experiment e, store_.GetExperimentByName(name));
          return Reply(c, "experiment", [&](JsonWriter& w) { WriteExperiment(w, e); });
        }));
  auto search_experiments = Endpoint([this](RequestContext& c, const Params& p) -> Status {
    ASSIGN_OR_RETURN(auto filter, p.String("filter"));
    ASSIGN_OR_RETURN(auto max, p.Int64("max_results"));
    ASSIGN_OR_RETURN(auto found, store_.SearchExperiments(filter.value_or(""), max.value_or(1000)));
    JsonWriter w;
    w.BeginObject().Key("experiments").BeginArray();
    for (const auto& e : found) WriteExperiment(w, e);
    w.EndArray().EndObject();
    c.Json(200, std::move(w).Take());
    return OkStatus();
  });
  route(http::verb::post, "experiments/search", search_experiments);
  route(http::verb::get, "experiments/search", search_experiments);
  route(http::verb::post, "runs/create",
        Endpoint([this](RequestContext& c, const Params& p) -> Status {
          ASSIGN_OR_RETURN(auto experiment, p.String("experiment_id"));
          ASSIGN_OR_RETURN(auto name, p.String("run_name"));
          ASSIGN_OR_RETURN(auto user, p.String("user_id"));
          ASSIGN_OR_RETURN(auto start, p.Int64("start_time"));
          ASSIGN_OR_RETURN(KeyValues tags, p.Pairs("tags"));
          ASSIGN_OR_RETURN(RunInfo info,
                           store_.CreateRun(experiment.value_or("0"), name.value_or(""),
                                            user.value_or(""), start, tags));
          ASSIGN_OR_RETURN(Run run, store_.GetRun(info.run_id));
          return Reply(c, "run", [&](JsonWriter& w) { WriteRun(w, run); });
        }));
  route(http::verb::post, "runs/update",
        Endpoint([this](RequestContext& c, const Params& p) -> Status {
          ASSIGN_OR_RETURN(std::string id, p.RunId());
          ASSIGN_OR_RETURN(auto status, p.String("status"));
          ASSIGN_OR_RETURN(auto end, p.Int64("end_time"));
          ASSIGN_OR_RETURN(auto name, p.String("run_name"));
          ASSIGN_OR_RETURN(RunInfo info, store_.UpdateRun(id, status, end, name));
          return Reply(c, "run_info", [&](JsonWriter& w) { WriteRunInfo(w, info); });
        }));
  route(http::verb::get, "runs/get", Endpoint([this](RequestContext& c, const Params& p) -> Status {
          ASSIGN_OR_RETURN(std::string id, p.RunId());
          ASSIGN_OR_RETURN(Run run, store_.GetRun(id));
          return Reply(c, "run", [&](JsonWriter& w) { WriteRun(w, run); });
        }));
  route(http::verb::post, "runs/delete",
        Endpoint([this](RequestContext& c, const Params& p) -> Status {
          ASSIGN_OR_RETURN(std::string id, p.RunId());
          RETURN_IF_ERROR(store_.DeleteRun(id));
          return Done(c);
        }));
  route(http::verb::post, "runs/log-metric",
        Endpoint([this](RequestContext& c, const Params& p) -> Status {
          ASSIGN_OR_RETURN(std::string id, p.RunId());
          ASSIGN_OR_RETURN(std::string key, p.Required("key"));
          auto value = p.Field("value");
          if (!value) return InvalidArgument("missing value for required parameter 'value'");
          ASSIGN_OR_RETURN(double v, p.Double(*value, "value"));
          ASSIGN_OR_RETURN(auto ts, p.Int64("timestamp"));
          ASSIGN_OR_RETURN(auto step, p.Int64("step"));
          RETURN_IF_ERROR(store_.LogBatch(
              id, {{key, v, ts.value_or(clock_.NowUnixMillis()), step.value_or(0)}}, {}, {}));
          return Done(c);
        }));
  // log-parameter and set-tag: one key/value, logged as a param or as a tag.
  auto log_key_value = [this](bool as_param) {
    return Endpoint([this, as_param](RequestContext& c, const Params& p) -> Status {
      ASSIGN_OR_RETURN(std::string id, p.RunId());
      ASSIGN_OR_RETURN(std::string key, p.Required("key"));
      ASSIGN_OR_RETURN(auto value, p.String("value"));
      if (!value) return InvalidArgument("missing value for required parameter 'value'");
      KeyValues kv = {{key, *value}};
      RETURN_IF_ERROR(
          store_.LogBatch(id, {}, as_param ? kv : KeyValues{}, as_param ? KeyValues{} : kv));
      return Done(c);
    });
  };
  route(http::verb::post, "runs/log-parameter", log_key_value(true));
  route(http::verb::post, "runs/set-tag", log_key_value(false));
  route(http::verb::post, "runs/log-batch",
        Endpoint([this](RequestContext& c, const Params& p) -> Status {
          ASSIGN_OR_RETURN(std::string id, p.RunId());
          ASSIGN_OR_RETURN(KeyValues params, p.Pairs("params"));
          ASSIGN_OR_RETURN(KeyValues tags, p.Pairs("tags"));
          std::vector<Metric> metrics;
          if (auto arr_e = p.Field("metrics")) {
            simdjson::dom::array arr;
            if (arr_e->get(arr)) return InvalidArgument("field 'metrics' must be an array");
            for (auto m : arr) {
              std::string_view key;
              if (m["key"].get(key)) return InvalidArgument("each metric needs a string 'key'");
              simdjson::dom::element value;
              if (m["value"].get(value))
                return InvalidArgument("metric '" + std::string(key) + "' needs a 'value'");
              ASSIGN_OR_RETURN(double v, p.Double(value, "value"));
              Metric metric{std::string(key), v, clock_.NowUnixMillis(), 0};
              for (auto [field, target] :
                   {std::pair{"timestamp", &metric.timestamp}, std::pair{"step", &metric.step}}) {
                simdjson::dom::element f;
                if (m[field].get(f)) continue;
                int64_t n = 0;
                std::string_view s;
                if (!f.get(n)) {
                  *target = n;
                } else if (!f.get(s) &&
                           std::from_chars(s.data(), s.data() + s.size(), n).ec == std::errc()) {
                  *target = n;
                } else {
                  return InvalidArgument(std::string("metric field '") + field +
                                         "' must be an integer");
                }
              }
              metrics.push_back(std::move(metric));
            }
          }
          RETURN_IF_ERROR(store_.LogBatch(id, metrics, params, tags));
          return Done(c);
        }));
  route(http::verb::post, "runs/search",
        Endpoint([this](RequestContext& c, const Params& p) -> Status {
          ASSIGN_OR_RETURN(auto ids, p.Strings("experiment_ids"));
          ASSIGN_OR_RETURN(auto filter, p.String("filter"));
          ASSIGN_OR_RETURN(auto order, p.Strings("order_by"));
          ASSIGN_OR_RETURN(auto max, p.Int64("max_results"));
          if (max && (*max < 1 || *max > 50000))
            return InvalidArgument("'max_results' must be between 1 and 50000");
          ASSIGN_OR_RETURN(auto runs,
                           store_.SearchRuns(ids, filter.value_or(""), order, max.value_or(1000)));
          JsonWriter w(8192);
          w.BeginObject().Key("runs").BeginArray();
          for (const auto& r : runs) WriteRun(w, r);
          w.EndArray().EndObject();
          c.Json(200, std::move(w).Take());
          return OkStatus();
        }));
  route(http::verb::get, "metrics/get-history",
        Endpoint([this](RequestContext& c, const Params& p) -> Status {
          ASSIGN_OR_RETURN(std::string id, p.RunId());
          ASSIGN_OR_RETURN(std::string key, p.Required("metric_key"));
          ASSIGN_OR_RETURN(auto history, store_.MetricHistory(id, key));
          JsonWriter w;
          w.BeginObject().Key("metrics").BeginArray();
          for (const auto& m : history) WriteMetric(w, m);
          w.EndArray().EndObject();
          c.Json(200, std::move(w).Take());
          return OkStatus();
        }));
  // Anything else under the prefix: MLflow's ENDPOINT_NOT_FOUND.
  for (auto v : {http::verb::get, http::verb::post, http::verb::put, http::verb::patch,
                 http::verb::delete_}) {
    router.Add(v, std::string(kPrefix) + "*", [](RequestContext& c) {
      JsonWriter w;
      w.BeginObject()
          .Key("error_code")
          .String("ENDPOINT_NOT_FOUND")
          .Key("message")
          .String("no MLflow endpoint " + std::string(c.request.method_string()) + " " +
                  std::string(c.request.target().substr(0, c.request.target().find('?'))))
          .EndObject();
      c.Json(404, std::move(w).Take());
    });
  }
}

}  // namespace closedloop
