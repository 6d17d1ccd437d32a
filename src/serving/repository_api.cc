#include "serving/repository_api.h"

#include <simdjson.h>

#include "core/json_writer.h"
#include "core/logging.h"

namespace closedloop {

namespace http = boost::beast::http;

namespace {

void WriteStates(JsonWriter& w, const std::vector<ModelState>& states) {
  w.BeginArray();
  for (const ModelState& s : states) {
    w.BeginObject().Key("name").String(s.name);
    if (s.version > 0) w.Key("version").String(std::to_string(s.version));
    w.Key("state").String(s.ready ? "READY" : "UNAVAILABLE");
    if (!s.error.empty()) w.Key("reason").String(s.error);
    w.EndObject();
  }
  w.EndArray();
}

// The index request's body: empty, {} or {"ready": bool}. Returns the filter.
StatusOr<bool> ReadyOnly(std::string_view body) {
  if (body.find_first_not_of(" \t\r\n") == std::string_view::npos) return false;
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(body.data(), body.size()).get(doc) != simdjson::SUCCESS) {
    return InvalidArgument("malformed JSON in the index request");
  }
  simdjson::dom::object obj;
  if (doc.get(obj) != simdjson::SUCCESS) {
    return InvalidArgument("the index request must be a JSON object");
  }
  bool ready = false;
  for (auto field : obj) {
    if (field.key != "ready") {
      return InvalidArgument("unknown field '" + std::string(field.key) +
                             "' in the index request (expected: ready)");
    }
    if (field.value.get(ready) != simdjson::SUCCESS) {
      return InvalidArgument("field 'ready' must be a boolean");
    }
  }
  return ready;
}

}  // namespace

void RepositoryApi::Register(Router& router) {
  router.Add(http::verb::post, "/v2/repository/index", [this](RequestContext& c) {
    auto ready_only = ReadyOnly(c.request.body());
    if (!ready_only.ok()) return c.Error(ready_only.status());
    std::vector<ModelState> states = models_.Index();
    if (*ready_only) std::erase_if(states, [](const ModelState& s) { return !s.ready; });
    JsonWriter w;
    WriteStates(w, states);
    c.Json(200, std::move(w).Take());
  });
  router.Add(http::verb::post, "/v2/repository/models/{model}/load", [this](RequestContext& c) {
    auto states = models_.LoadModel(c.Param("model"));
    if (!states.ok()) {
      if (states.status().code() == StatusCode::kFailedPrecondition) {
        return c.Json(400, ErrorBody(states.status().message()));
      }
      return c.Error(states.status());
    }
    JsonWriter w;
    w.BeginObject().Key("name").String(c.Param("model")).Key("versions");
    WriteStates(w, *states);
    w.EndObject();
    c.Json(200, std::move(w).Take());
  });
  router.Add(http::verb::post, "/v2/repository/models/{model}/unload", [this](RequestContext& c) {
    Status s = models_.UnloadModel(c.Param("model"));
    if (!s.ok()) return c.Error(s);
    c.Json(200, "{}");
  });
}

RepositoryPoller::RepositoryPoller(ModelRepository& models, std::chrono::milliseconds interval)
    : models_(models), interval_(interval), thread_([this] { Run(); }) {}

RepositoryPoller::~RepositoryPoller() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_one();
  thread_.join();
}

void RepositoryPoller::Run() {
  std::unique_lock lock(mu_);
  while (!cv_.wait_for(lock, interval_, [this] { return stop_; })) {
    lock.unlock();
    auto changed = models_.PollOnce();
    for (const auto& name : changed) LogInfo("model repository changed").Kv("model", name);
    lock.lock();
  }
}

}  // namespace closedloop
