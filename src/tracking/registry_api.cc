#include "tracking/registry_api.h"

#include <simdjson.h>

#include "tracking/mlflow_request.h"

namespace closedloop {

namespace {

using namespace mlflow_rest;

// Headline metrics of a version's metrics.json (test, else validation).
KeyValues MetricTags(const std::string& metrics_json) {
  KeyValues out;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(metrics_json).get(doc)) return out;
  for (const char* split : {"test", "validation"}) {
    simdjson::dom::object rep;
    if (doc[split].get(rep)) continue;
    for (const char* k : {"accuracy", "macro_f1", "log_loss", "roc_auc", "ece"}) {
      double v = 0;
      if (rep[k].get(v)) continue;
      JsonWriter num(32);
      num.Double(v);
      out.emplace_back(std::string("closedloop.metric.") + split + "_" + k, num.str());
    }
    break;
  }
  return out;
}

void WriteVersion(JsonWriter& w, const ModelVersionInfo& v) {
  w.BeginObject();
  w.Key("name").String(v.name).Key("version").String(std::to_string(v.version));
  w.Key("creation_timestamp").Int(v.creation_time);
  w.Key("last_updated_timestamp").Int(v.last_updated_time);
  w.Key("user_id").String(v.user_id).Key("current_stage").String(v.current_stage);
  w.Key("description").String(v.description).Key("source").String(v.source);
  w.Key("run_id").String(v.run_id).Key("run_link").String("");
  w.Key("status").String(v.status).Key("status_message").String("");
  KeyValues tags = v.tags;
  tags.emplace_back("closedloop.flavor", v.flavor);
  tags.emplace_back("closedloop.model_sha256", v.model_sha256);
  tags.emplace_back("closedloop.model_size", std::to_string(v.model_size));
  tags.emplace_back("closedloop.storage_path", v.storage_path);
  for (auto& kv : MetricTags(v.metrics_json)) tags.push_back(std::move(kv));
  w.Key("tags");
  WritePairs(w, tags);
  w.Key("aliases").BeginArray();
  for (const auto& a : v.aliases) w.String(a);
  w.EndArray();
  w.EndObject();
}

void WriteModel(JsonWriter& w, const RegisteredModel& m) {
  w.BeginObject();
  w.Key("name").String(m.name);
  w.Key("creation_timestamp").Int(m.creation_time);
  w.Key("last_updated_timestamp").Int(m.last_updated_time);
  w.Key("description").String(m.description);
  w.Key("tags");
  WritePairs(w, m.tags);
  w.Key("aliases").BeginArray();
  for (const auto& [alias, version] : m.aliases) {
    w.BeginObject().Key("alias").String(alias).Key("version").String(std::to_string(version));
    w.EndObject();
  }
  w.EndArray();
  w.Key("latest_versions").BeginArray();
  for (const auto& v : m.latest_versions) WriteVersion(w, v);
  w.EndArray();
  w.EndObject();
}

StatusOr<int64_t> RequiredVersion(const Params& p) {
  ASSIGN_OR_RETURN(auto v, p.Int64("version"));
  if (!v) return InvalidArgument("missing value for required parameter 'version'");
  return *v;
}

}  // namespace

void RegistryApi::Register(Router& router) {
  auto route = [&](http::verb v, std::string_view path, Handler h) {
    router.Add(v, std::string(kPrefix) + std::string(path), std::move(h));
  };
  auto model_reply = [](RequestContext& c, const RegisteredModel& m) {
    return Reply(c, "registered_model", [&](JsonWriter& w) { WriteModel(w, m); });
  };
  auto version_reply = [](RequestContext& c, const ModelVersionInfo& v) {
    return Reply(c, "model_version", [&](JsonWriter& w) { WriteVersion(w, v); });
  };
  auto versions_reply = [](RequestContext& c, const std::vector<ModelVersionInfo>& vs) {
    return Reply(c, "model_versions", [&](JsonWriter& w) {
      w.BeginArray();
      for (const auto& v : vs) WriteVersion(w, v);
      w.EndArray();
    });
  };

  route(http::verb::post, "registered-models/create",
        Endpoint([this, model_reply](RequestContext& c, const Params& p) -> Status {
          ASSIGN_OR_RETURN(std::string name, p.Required("name"));
          ASSIGN_OR_RETURN(auto description, p.String("description"));
          ASSIGN_OR_RETURN(KeyValues tags, p.Pairs("tags"));
          ASSIGN_OR_RETURN(auto m,
                           registry_.CreateRegisteredModel(name, description.value_or(""), tags));
          return model_reply(c, m);
        }));
  route(http::verb::get, "registered-models/get",
        Endpoint([this, model_reply](RequestContext& c, const Params& p) -> Status {
          ASSIGN_OR_RETURN(std::string name, p.Required("name"));
          ASSIGN_OR_RETURN(auto m, registry_.GetRegisteredModel(name));
          return model_reply(c, m);
        }));
  auto search_models = Endpoint([this](RequestContext& c, const Params& p) -> Status {
    ASSIGN_OR_RETURN(auto filter, p.String("filter"));
    ASSIGN_OR_RETURN(auto max, p.Int64("max_results"));
    ASSIGN_OR_RETURN(auto models,
                     registry_.SearchRegisteredModels(filter.value_or(""), max.value_or(100)));
    return Reply(c, "registered_models", [&](JsonWriter& w) {
      w.BeginArray();
      for (const auto& m : models) WriteModel(w, m);
      w.EndArray();
    });
  });
  route(http::verb::get, "registered-models/search", search_models);
  route(http::verb::post, "registered-models/search", search_models);
  auto update_model = Endpoint([this, model_reply](RequestContext& c, const Params& p) -> Status {
    ASSIGN_OR_RETURN(std::string name, p.Required("name"));
    ASSIGN_OR_RETURN(auto description, p.String("description"));
    ASSIGN_OR_RETURN(auto m, registry_.UpdateRegisteredModel(name, description.value_or("")));
    return model_reply(c, m);
  });
  route(http::verb::patch, "registered-models/update", update_model);
  route(http::verb::post, "registered-models/update", update_model);
  route(http::verb::delete_, "registered-models/delete",
        Endpoint([this](RequestContext& c, const Params& p) -> Status {
          ASSIGN_OR_RETURN(std::string name, p.Required("name"));
          RETURN_IF_ERROR(registry_.DeleteRegisteredModel(name));
          return Done(c);
        }));
  route(http::verb::post, "registered-models/set-tag",
        Endpoint([this](RequestContext& c, const Params& p) -> Status {
          ASSIGN_OR_RETURN(std::string name, p.Required("name"));
          ASSIGN_OR_RETURN(std::string key, p.Required("key"));
          ASSIGN_OR_RETURN(auto value, p.String("value"));
          RETURN_IF_ERROR(registry_.SetRegisteredModelTag(name, key, value.value_or("")));
          return Done(c);
        }));
  route(http::verb::delete_, "registered-models/delete-tag",
        Endpoint([this](RequestContext& c, const Params& p) -> Status {
          ASSIGN_OR_RETURN(std::string name, p.Required("name"));
          ASSIGN_OR_RETURN(std::string key, p.Required("key"));
          RETURN_IF_ERROR(registry_.DeleteRegisteredModelTag(name, key));
          return Done(c);
        }));
  route(http::verb::post, "model-versions/set-tag",
        Endpoint([this](RequestContext& c, const Params& p) -> Status {
          ASSIGN_OR_RETURN(std::string name, p.Required("name"));
          ASSIGN_OR_RETURN(int64_t version, RequiredVersion(p));
          ASSIGN_OR_RETURN(std::string key, p.Required("key"));
          ASSIGN_OR_RETURN(auto value, p.String("value"));
          RETURN_IF_ERROR(registry_.SetModelVersionTag(name, version, key, value.value_or("")));
          return Done(c);
        }));
  route(http::verb::delete_, "model-versions/delete-tag",
        Endpoint([this](RequestContext& c, const Params& p) -> Status {
          ASSIGN_OR_RETURN(std::string name, p.Required("name"));
          ASSIGN_OR_RETURN(int64_t version, RequiredVersion(p));
          ASSIGN_OR_RETURN(std::string key, p.Required("key"));
          RETURN_IF_ERROR(registry_.DeleteModelVersionTag(name, version, key));
          return Done(c);
        }));
  auto latest = Endpoint([this, versions_reply](RequestContext& c, const Params& p) -> Status {
    ASSIGN_OR_RETURN(std::string name, p.Required("name"));
    ASSIGN_OR_RETURN(auto stages, p.Strings("stages"));
    ASSIGN_OR_RETURN(auto m, registry_.GetRegisteredModel(name));
    std::vector<ModelVersionInfo> out;
    for (auto& v : m.latest_versions) {
      bool wanted = stages.empty();
      for (const auto& s : stages) {
        wanted =
            wanted || (s.size() == v.current_stage.size() &&
                       std::equal(s.begin(), s.end(), v.current_stage.begin(), [](char a, char b) {
                         return std::tolower(static_cast<unsigned char>(a)) ==
                                std::tolower(static_cast<unsigned char>(b));
                       }));
      }
      if (wanted) out.push_back(std::move(v));
    }
    return versions_reply(c, out);
  });
  route(http::verb::post, "registered-models/get-latest-versions", latest);
  route(http::verb::get, "registered-models/get-latest-versions", latest);

  route(http::verb::post, "model-versions/create",
        Endpoint([this, version_reply](RequestContext& c, const Params& p) -> Status {
          NewModelVersion nv;
          ASSIGN_OR_RETURN(nv.name, p.Required("name"));
          ASSIGN_OR_RETURN(nv.source, p.Required("source"));
          ASSIGN_OR_RETURN(auto run_id, p.String("run_id"));
          ASSIGN_OR_RETURN(auto description, p.String("description"));
          ASSIGN_OR_RETURN(nv.tags, p.Pairs("tags"));
          nv.run_id = run_id.value_or("");
          nv.description = description.value_or("");
          ASSIGN_OR_RETURN(auto v, registry_.CreateModelVersion(nv));
          return version_reply(c, v);
        }));
  route(http::verb::get, "model-versions/get",
        Endpoint([this, version_reply](RequestContext& c, const Params& p) -> Status {
          ASSIGN_OR_RETURN(std::string name, p.Required("name"));
          ASSIGN_OR_RETURN(int64_t version, RequiredVersion(p));
          ASSIGN_OR_RETURN(auto v, registry_.GetModelVersion(name, version));
          return version_reply(c, v);
        }));
  auto search_versions = Endpoint([this](RequestContext& c, const Params& p) -> Status {
    VersionSearch q;
    ASSIGN_OR_RETURN(auto filter, p.String("filter"));
    ASSIGN_OR_RETURN(auto max, p.Int64("max_results"));
    ASSIGN_OR_RETURN(q.order_by, p.Strings("order_by"));
    ASSIGN_OR_RETURN(auto token, p.String("page_token"));
    q.filter = filter.value_or("");
    q.max_results = max.value_or(10000);
    q.page_token = token.value_or("");
    ASSIGN_OR_RETURN(VersionPage page, registry_.SearchModelVersions(q));
    JsonWriter w;
    w.BeginObject().Key("model_versions").BeginArray();
    for (const auto& v : page.versions) WriteVersion(w, v);
    w.EndArray();
    if (!page.next_page_token.empty()) w.Key("next_page_token").String(page.next_page_token);
    w.EndObject();
    c.Json(200, std::move(w).Take());
    return OkStatus();
  });
  route(http::verb::get, "model-versions/search", search_versions);
  route(http::verb::post, "model-versions/search", search_versions);
  auto update_version = Endpoint([this, version_reply](RequestContext& c,
                                                       const Params& p) -> Status {
    ASSIGN_OR_RETURN(std::string name, p.Required("name"));
    ASSIGN_OR_RETURN(int64_t version, RequiredVersion(p));
    ASSIGN_OR_RETURN(auto description, p.String("description"));
    ASSIGN_OR_RETURN(auto v, registry_.UpdateModelVersion(name, version, description.value_or("")));
    return version_reply(c, v);
  });
  route(http::verb::patch, "model-versions/update", update_version);
  route(http::verb::post, "model-versions/update", update_version);
  route(http::verb::delete_, "model-versions/delete",
        Endpoint([this](RequestContext& c, const Params& p) -> Status {
          ASSIGN_OR_RETURN(std::string name, p.Required("name"));
          ASSIGN_OR_RETURN(int64_t version, RequiredVersion(p));
          RETURN_IF_ERROR(registry_.DeleteModelVersion(name, version));
          return Done(c);
        }));
  route(http::verb::post, "model-versions/transition-stage",
        Endpoint([this, version_reply](RequestContext& c, const Params& p) -> Status {
          ASSIGN_OR_RETURN(std::string name, p.Required("name"));
          ASSIGN_OR_RETURN(int64_t version, RequiredVersion(p));
          ASSIGN_OR_RETURN(std::string stage, p.Required("stage"));
          bool archive = false;
          if (auto e = p.Field("archive_existing_versions")) {
            std::string_view s;
            if (e->get(archive) && (e->get(s) || (s != "true" && s != "false"))) {
              return InvalidArgument("field 'archive_existing_versions' must be a boolean");
            }
            if (!e->get(s)) archive = s == "true";
          }
          ASSIGN_OR_RETURN(auto v, registry_.TransitionStage(name, version, stage, archive));
          return version_reply(c, v);
        }));
  route(http::verb::get, "model-versions/get-download-uri",
        Endpoint([this](RequestContext& c, const Params& p) -> Status {
          ASSIGN_OR_RETURN(std::string name, p.Required("name"));
          ASSIGN_OR_RETURN(int64_t version, RequiredVersion(p));
          ASSIGN_OR_RETURN(auto v, registry_.GetModelVersion(name, version));
          return Reply(c, "artifact_uri", [&](JsonWriter& w) { w.String(v.storage_path); });
        }));

  route(http::verb::post, "registered-models/alias",
        Endpoint([this](RequestContext& c, const Params& p) -> Status {
          ASSIGN_OR_RETURN(std::string name, p.Required("name"));
          ASSIGN_OR_RETURN(std::string alias, p.Required("alias"));
          ASSIGN_OR_RETURN(int64_t version, RequiredVersion(p));
          RETURN_IF_ERROR(registry_.SetAlias(name, alias, version));
          return Done(c);
        }));
  route(http::verb::delete_, "registered-models/alias",
        Endpoint([this](RequestContext& c, const Params& p) -> Status {
          ASSIGN_OR_RETURN(std::string name, p.Required("name"));
          ASSIGN_OR_RETURN(std::string alias, p.Required("alias"));
          RETURN_IF_ERROR(registry_.DeleteAlias(name, alias));
          return Done(c);
        }));
  route(http::verb::get, "registered-models/alias",
        Endpoint([this, version_reply](RequestContext& c, const Params& p) -> Status {
          ASSIGN_OR_RETURN(std::string name, p.Required("name"));
          ASSIGN_OR_RETURN(std::string alias, p.Required("alias"));
          ASSIGN_OR_RETURN(auto v, registry_.GetVersionByAlias(name, alias));
          return version_reply(c, v);
        }));

  // A version's model card (markdown) and its full evaluation (metrics.json: the
  // validation and test reports with per-class metrics, confusion matrix and
  // reliability bins), for the console.
  for (bool card : {true, false}) {
    router.Add(
        http::verb::get,
        std::string("/v1/models/{name}/versions/{version}/") + (card ? "card" : "metrics"),
        [this, card](RequestContext& c) {
          int64_t version = 0;
          std::string_view text = c.Param("version");
          auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), version);
          if (ec != std::errc() || ptr != text.data() + text.size()) {
            return c.Error(InvalidArgument("version '" + std::string(text) + "' is not a number"));
          }
          auto v = registry_.GetModelVersion(std::string(c.Param("name")), version);
          if (!v.ok()) return c.Error(v.status());
          if (!card) return c.Json(200, v->metrics_json.empty() ? "{}" : v->metrics_json);
          c.status = 200;
          c.content_type = "text/markdown; charset=utf-8";
          c.body = v->model_card;
        });
  }
}

}  // namespace closedloop
