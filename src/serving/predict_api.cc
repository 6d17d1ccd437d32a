#include "serving/predict_api.h"

#include <algorithm>
#include <cmath>
#include <optional>

#include "core/json_writer.h"
#include "core/sha256.h"
#include "serving/image_input.h"
#include "serving/image_predict.h"
#include "serving/oos_score.h"

namespace closedloop {

namespace http = boost::beast::http;

namespace {

// MC-dropout passes per ensemble member for "uncertainty": true.
constexpr int kUncertaintyPasses = 20;

// [{"label": ..., "p": ...}, ...] for the first k scores.
std::string TopKJson(const std::vector<std::string>& labels, const LabelScores& scores, size_t k) {
  JsonWriter top;
  top.BeginArray();
  for (size_t i = 0; i < std::min(k, scores.size()); ++i) {
    top.BeginObject()
        .Key("label")
        .String(labels[scores[i].index])
        .Key("p")
        .Double(scores[i].p)
        .EndObject();
  }
  top.EndArray();
  return std::move(top).Take();
}

// Opens a prediction response: {"request_id", "model", "version" (object left open).
void BeginPrediction(JsonWriter& w, const PredictionRecord& rec) {
  w.BeginObject().Key("request_id").String(rec.request_id).Key("model").String(rec.model);
  w.Key("version").String(rec.version);
}

}  // namespace

PredictApi::PredictApi(const ServingConfig& serving, const PredictionLogConfig& log_config,
                       ModelRepository& models, PredictionLog& log, MetricsRegistry& metrics,
                       const Clock& clock, const TrafficSplits* splits)
    : serving_(serving),
      store_inputs_(log_config.store_inputs),
      models_(models),
      log_(log),
      clock_(clock),
      splits_(splits) {
  compute_seconds_ =
      metrics.AddHistogram("closedloop_model_compute_seconds",
                           "Time a backend spent computing one prediction.", {"model", "version"});
}

void PredictApi::Register(Router& router) {
  const size_t limit = serving_.image_body_limit_bytes;
  router.Add(
      http::verb::post, "/v1/predict", [this](RequestContext& c) { Predict(c); }, BodyMedia::kJson,
      limit);
  router.Add(
      http::verb::post, "/v1/inference", [this](RequestContext& c) { Inference(c); },
      BodyMedia::kJson, limit);
  router.Add(http::verb::get, "/health", [](RequestContext& c) { c.status = 200; });
  router.Add(http::verb::get, "/v1/predictions/{request_id}",
             [this](RequestContext& c) { GetPrediction(c); });
  router.Add(http::verb::get, "/v1/models", [this](RequestContext& c) { ListModels(c); });
}

StatusOr<std::string> PredictApi::DefaultModel() const {
  std::vector<std::string> names, image_models;
  for (const ModelState& s : models_.List()) {
    if (!s.ready || std::find(names.begin(), names.end(), s.name) != names.end()) continue;
    names.push_back(s.name);
    auto mv = models_.Resolve(s.name, "");
    if (mv.ok() && (*mv)->config.image) image_models.push_back(s.name);
  }
  if (names.size() == 1) return names.front();
  if (image_models.size() == 1) return image_models.front();
  std::string list;
  for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
  return InvalidArgument("missing field 'model': " + std::to_string(names.size()) +
                         " models are served (" + list + "), so name one");
}

void PredictApi::Serve(RequestContext& ctx, bool inference) {
  auto start = clock_.MonotonicNow();
  auto parsed = ParsePredictRequest(ctx.request.body(), serving_.max_text_bytes, !inference);
  ctx.trace.Add("parse", start, clock_.MonotonicNow());
  if (!parsed.ok()) return ctx.Error(parsed.status());
  PredictRequest& req = *parsed;
  if (req.model.empty()) {
    auto name = DefaultModel();
    if (!name.ok()) return ctx.Error(name.status());
    req.model = std::move(name).value();
  }
  RoutedVersion routed;
  if (splits_ != nullptr) {
    std::string_view key = ctx.request["X-Routing-Key"];
    auto r = splits_->Route(models_, req.model, req.version, key.empty() ? ctx.request_id : key);
    if (!r.ok()) return ctx.Error(r.status());
    routed = std::move(r).value();
  } else {
    auto resolved = models_.Resolve(req.model, req.version);
    if (!resolved.ok()) return ctx.Error(resolved.status());
    routed.version = std::move(resolved).value();
  }
  std::shared_ptr<const ModelVersion> mv = routed.version;
  ctx.model_label = mv->name;
  ctx.version_label = mv->version_label;
  if (mv->config.max_text_bytes > 0 &&
      req.text.size() > static_cast<size_t>(mv->config.max_text_bytes)) {
    return ctx.Error(InvalidArgument("field 'text' is " + std::to_string(req.text.size()) +
                                     " bytes; model '" + mv->name + "' accepts at most " +
                                     std::to_string(mv->config.max_text_bytes)));
  }

  if (mv->config.image) {
    if (!req.has_image) {
      return ctx.Error(InvalidArgument("model '" + mv->name +
                                       "' is an image model: send 'image' (an array " +
                                       ExpectedImageShape(*mv->config.image) + ") or 'image_b64'"));
    }
    return PredictImage(ctx, req, std::move(routed), start, inference);
  }
  if (req.has_image) {
    return ctx.Error(InvalidArgument(
        "model '" + mv->name + "' (flavor '" + std::string(mv->backend->flavor()) + "') takes " +
        (mv->backend->feature_names().empty() ? "'text'" : "'features'") +
        ", not images (it has no [image] table in its config.toml)"));
  }
  if (req.has_features) return PredictTabular(ctx, req, routed, start, inference);
  auto compute_start = clock_.MonotonicNow();
  auto scores = mv->backend->PredictText(req.text, req.top_k > 0 ? req.top_k : mv->config.top_k);
  auto end = clock_.MonotonicNow();
  ctx.trace.Add("compute", compute_start, end);
  const double latency_ms = std::chrono::duration<double, std::milli>(end - start).count();
  if (routed.split) {  // a client's bad input is not the version's failure
    bool server_ok = scores.ok() || scores.status().code() == StatusCode::kInvalidArgument;
    routed.split->observer->OnServed(routed.arm, server_ok, latency_ms);
  }
  if (!scores.ok()) return ctx.Error(scores.status());
  std::optional<PredictiveUncertainty> uncertainty;
  if (req.uncertainty) {
    auto u = mv->backend->TextUncertainty(req.text, kUncertaintyPasses);
    if (!u.ok()) return ctx.Error(u.status());
    uncertainty = *u;
  }
  compute_seconds_->Labels({mv->name, mv->version_label})
      .Observe(std::chrono::duration<double>(end - compute_start).count());

  const auto& labels = mv->backend->labels();
  std::string top = TopKJson(labels, *scores, scores->size());

  PredictionRecord rec;
  rec.request_id = std::string(ctx.request_id);
  rec.ts_ms = clock_.NowUnixMillis();
  rec.model = mv->name;
  rec.version = mv->version_label;
  rec.input_sha256 = Sha256Hex(req.text);
  rec.label = labels[scores->front().index];
  rec.confidence = scores->front().p;
  rec.latency_ms = latency_ms;

  JsonWriter w;
  BeginPrediction(w, rec);
  if (inference) w.Key("prediction").String(rec.label);
  w.Key("label").String(rec.label).Key("confidence").Double(rec.confidence).Key("top_k").Raw(top);
  // The model's out-of-scope verdict (serving/oos_score.h), when it has a threshold.
  if (auto v = ConfiguredInScopeScore(*mv->backend, mv->config, req.text, scores->front().p);
      v.ok() && *v) {
    w.Key("scope").BeginObject().Key("score").String(mv->config.oos_score);
    w.Key("value").Double(**v).Key("threshold").Double(*mv->config.oos_threshold);
    w.Key("out_of_scope").Bool(**v < *mv->config.oos_threshold).EndObject();
  }
  if (uncertainty) {
    w.Key("uncertainty")
        .BeginObject()
        .Key("passes")
        .Int(uncertainty->passes)
        .Key("predictive_entropy")
        .Double(uncertainty->predictive_entropy)
        .Key("expected_entropy")
        .Double(uncertainty->expected_entropy)
        .Key("mutual_information")
        .Double(uncertainty->mutual_information)
        .Key("vote_entropy")
        .Double(uncertainty->vote_entropy)
        .EndObject();
  }
  w.Key("latency_ms").Double(rec.latency_ms).EndObject();
  ctx.Json(200, std::move(w).Take());

  rec.top_k_json = std::move(top);
  if (ctx.audited) {
    ctx.audit_label = rec.label;
    ctx.audit_input_sha256 = rec.input_sha256;
  }
  if (routed.mirror_to) routed.split->observer->Mirror(routed.mirror_to, req.text, rec.label);
  if (store_inputs_) rec.input_text = std::move(req.text);
  const auto log_start = clock_.MonotonicNow();
  log_.Append(rec);  // never blocks; a drop is counted and logged by the log
  ctx.trace.Add("log", log_start, clock_.MonotonicNow());
}

void PredictApi::PredictTabular(RequestContext& ctx, PredictRequest& req,
                                const RoutedVersion& routed,
                                std::chrono::steady_clock::time_point start, bool inference) {
  const ModelVersion& mv = *routed.version;
  const Backend& b = *mv.backend;
  const auto& names = b.feature_names();
  if (names.empty()) return ctx.Error(b.PredictRow({}, false).status());  // not tabular
  std::vector<float> row(names.size(), std::nanf(""));                    // not given: missing
  for (const auto& [name, value] : req.features) {
    auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end()) {
      std::string known;
      for (const auto& n : names) known += (known.empty() ? "" : ", ") + n;
      return ctx.Error(InvalidArgument("unknown feature '" + name + "' (model '" + mv.name +
                                       "' features: " + known + ")"));
    }
    if (std::isinf(value)) return ctx.Error(InvalidArgument("feature '" + name + "' is infinite"));
    row[static_cast<size_t>(it - names.begin())] = static_cast<float>(value);
  }
  for (const auto& [name, value] : req.category_features) {
    auto cats = mv.config.categories.find(name);
    if (cats == mv.config.categories.end()) {
      bool known = std::find(names.begin(), names.end(), name) != names.end();
      return ctx.Error(InvalidArgument(known ? "feature '" + name + "' must be a number or null"
                                             : "unknown feature '" + name + "'"));
    }
    auto it = std::find(names.begin(), names.end(), name);
    if (it == names.end()) return ctx.Error(InvalidArgument("unknown feature '" + name + "'"));
    row[static_cast<size_t>(it - names.begin())] = CategoryCode(cats->second, value);
  }
  auto compute_start = clock_.MonotonicNow();
  auto pred = b.PredictRow(row, req.explain);
  auto end = clock_.MonotonicNow();
  ctx.trace.Add("compute", compute_start, end);
  if (routed.split) {
    bool server_ok = pred.ok() || pred.status().code() == StatusCode::kInvalidArgument;
    routed.split->observer->OnServed(
        routed.arm, server_ok, std::chrono::duration<double, std::milli>(end - start).count());
  }
  if (!pred.ok()) return ctx.Error(pred.status());
  compute_seconds_->Labels({mv.name, mv.version_label})
      .Observe(std::chrono::duration<double>(end - compute_start).count());

  // The canonical input: every feature in model order, missing ones as null.
  JsonWriter input(256);
  input.BeginObject();
  for (size_t i = 0; i < names.size(); ++i) {
    input.Key(names[i]);
    if (std::isnan(row[i])) {
      input.Null();
    } else {
      input.Double(row[i]);
    }
  }
  input.EndObject();

  PredictionRecord rec;
  rec.request_id = std::string(ctx.request_id);
  rec.ts_ms = clock_.NowUnixMillis();
  rec.model = mv.name;
  rec.version = mv.version_label;
  rec.input_sha256 = Sha256Hex(input.str());
  rec.latency_ms = std::chrono::duration<double, std::milli>(end - start).count();
  size_t k = req.top_k > 0 ? static_cast<size_t>(req.top_k) : static_cast<size_t>(mv.config.top_k);
  std::string top = TopKJson(b.labels(), pred->scores, k);

  JsonWriter w;
  BeginPrediction(w, rec);
  if (!pred->scores.empty()) {
    rec.label = b.labels()[pred->scores.front().index];
    rec.confidence = pred->scores.front().p;
    if (inference) w.Key("prediction").String(rec.label);
    w.Key("label").String(rec.label).Key("confidence").Double(rec.confidence).Key("top_k").Raw(top);
  } else {
    JsonWriter v(32);
    v.Double(pred->value);
    rec.label = v.str();
    rec.confidence = pred->value;
    w.Key("prediction").Double(pred->value);
  }
  if (req.explain) {
    w.Key("explanation")
        .BeginObject()
        .Key("bias")
        .Double(pred->contributions.back())
        .Key("contributions")
        .BeginObject();
    for (size_t i = 0; i < names.size(); ++i) w.Key(names[i]).Double(pred->contributions[i]);
    w.EndObject().EndObject();
  }
  w.Key("latency_ms").Double(rec.latency_ms).EndObject();
  ctx.Json(200, std::move(w).Take());
  rec.top_k_json = std::move(top);
  if (ctx.audited) {
    ctx.audit_label = rec.label;
    ctx.audit_input_sha256 = rec.input_sha256;
  }
  if (store_inputs_) rec.input_text = std::move(input).Take();
  const auto log_start = clock_.MonotonicNow();
  log_.Append(rec);
  ctx.trace.Add("log", log_start, clock_.MonotonicNow());
}

struct PredictApi::ImageCall {
  PreparedImage image;
  RoutedVersion routed;
  std::chrono::steady_clock::time_point start;
  size_t top_k = 0;
  bool inference = false;
  bool batched = false;
  BatchTiming timing;
};

void PredictApi::PredictImage(RequestContext& ctx, PredictRequest& req, RoutedVersion routed,
                              std::chrono::steady_clock::time_point start, bool inference) {
  const ModelVersion& mv = *routed.version;
  const ImageConfig& ic = *mv.config.image;
  const auto decode_start = clock_.MonotonicNow();
  auto prepared = req.image_bytes.empty() ? PrepareImageArray(req.image, req.image_dims, ic)
                                          : PrepareEncodedImage(req.image_bytes, ic);
  ctx.trace.Add("preprocess", decode_start, clock_.MonotonicNow());
  if (!prepared.ok()) return ctx.Error(prepared.status());
  auto call = std::make_shared<ImageCall>();
  call->image = std::move(prepared).value();
  call->routed = std::move(routed);
  call->start = start;
  call->top_k = static_cast<size_t>(req.top_k > 0 ? req.top_k : mv.config.top_k);
  call->inference = inference;
  std::vector<Tensor> inputs;
  inputs.push_back(ImageBatchTensor({&call->image}, ic, *mv.backend));
  if (mv.batcher) {
    if (auto deferred = ctx.Defer()) {
      call->batched = true;
      Status queued = mv.batcher->Submit(
          std::move(inputs),
          [this, call, deferred](StatusOr<std::vector<Tensor>> outputs) {
            deferred->Finish([this, call, outputs = std::move(outputs)](RequestContext& c) {
              c.trace.Add("queue", call->timing.enqueued, call->timing.started);
              c.trace.Add("compute", call->timing.started, call->timing.finished);
              FinishImage(c, *call, outputs);
            });
          },
          &call->timing);
      if (!queued.ok()) {
        deferred->Finish([queued](RequestContext& c) {
          c.Error(Unavailable(queued.message()));
          c.headers.emplace_back("Retry-After", "1");
        });
      }
      return;
    }
  }
  call->timing.enqueued = call->timing.started = clock_.MonotonicNow();
  auto outputs = mv.backend->Infer(inputs);
  call->timing.finished = clock_.MonotonicNow();
  ctx.trace.Add("compute", call->timing.started, call->timing.finished);
  FinishImage(ctx, *call, std::move(outputs));
}

void PredictApi::FinishImage(RequestContext& ctx, ImageCall& call,
                             StatusOr<std::vector<Tensor>> outputs) {
  const ModelVersion& mv = *call.routed.version;
  const Backend& b = *mv.backend;
  const auto end = clock_.MonotonicNow();
  const double latency_ms = std::chrono::duration<double, std::milli>(end - call.start).count();
  StatusOr<ImageOutputs> read = outputs.ok() ? ReadImageOutputs(*outputs, *mv.config.image, b, 1)
                                             : StatusOr<ImageOutputs>(outputs.status());
  if (call.routed.split) {
    call.routed.split->observer->OnServed(call.routed.arm, read.ok(), latency_ms);
  }
  if (!read.ok()) return ctx.Error(Internal(read.status().message()));
  compute_seconds_->Labels({mv.name, mv.version_label})
      .Observe(std::chrono::duration<double>(call.timing.finished - call.timing.started).count());
  const std::vector<float>& probs = read->probabilities.front();
  LabelScores scores = TopLabels(probs, call.top_k);
  std::string top = TopKJson(b.labels(), scores, scores.size());

  PredictionRecord rec;
  rec.request_id = std::string(ctx.request_id);
  rec.ts_ms = clock_.NowUnixMillis();
  rec.model = mv.name;
  rec.version = mv.version_label;
  rec.input_sha256 = call.image.sha256;
  rec.label = b.labels()[scores.front().index];
  rec.confidence = scores.front().p;
  rec.latency_ms = latency_ms;

  JsonWriter w;
  BeginPrediction(w, rec);
  if (call.inference) w.Key("prediction").String(rec.label);
  w.Key("label").String(rec.label).Key("confidence").Double(rec.confidence).Key("top_k").Raw(top);
  w.Key("image")
      .BeginObject()
      .Key("sha256")
      .String(call.image.sha256)
      .Key("brightness")
      .Double(call.image.stats.brightness)
      .Key("contrast")
      .Double(call.image.stats.contrast)
      .EndObject();
  w.Key("latency_ms").Double(rec.latency_ms).EndObject();
  ctx.Json(200, std::move(w).Take());
  rec.top_k_json = std::move(top);
  if (ctx.audited) {
    ctx.audit_label = rec.label;
    ctx.audit_input_sha256 = rec.input_sha256;
  }
  if (store_inputs_) {
    rec.input_text =
        ImageRecordJson(call.image, read->embeddings.empty() ? nullptr : &read->embeddings.front());
  }
  const auto log_start = clock_.MonotonicNow();
  log_.Append(rec);
  ctx.trace.Add("log", log_start, clock_.MonotonicNow());
}

void PredictApi::GetPrediction(RequestContext& ctx) {
  std::string id(ctx.Param("request_id"));
  auto rec = log_.Get(id);
  if (!rec.ok()) return ctx.Error(rec.status());
  JsonWriter w;
  w.BeginObject()
      .Key("request_id")
      .String(rec->request_id)
      .Key("ts_ms")
      .Int(rec->ts_ms)
      .Key("model")
      .String(rec->model)
      .Key("version")
      .String(rec->version)
      .Key("input_sha256")
      .String(rec->input_sha256)
      .Key("input_text");
  if (rec->input_text) {
    w.String(*rec->input_text);
  } else {
    w.Null();
  }
  w.Key("label")
      .String(rec->label)
      .Key("confidence")
      .Double(rec->confidence)
      .Key("top_k")
      .Raw(rec->top_k_json)
      .Key("latency_ms")
      .Double(rec->latency_ms);
  if (rec->action) w.Key("action").String(*rec->action);
  if (rec->propensity) w.Key("propensity").Double(*rec->propensity);
  w.EndObject();
  ctx.Json(200, std::move(w).Take());
}

void PredictApi::ListModels(RequestContext& ctx) {
  JsonWriter w;
  w.BeginObject().Key("models").BeginArray();
  for (const ModelState& s : models_.List()) {
    w.BeginObject().Key("name").String(s.name).Key("version").Int(s.version).Key("state").String(
        s.ready ? "READY" : "UNAVAILABLE");
    if (!s.error.empty()) w.Key("reason").String(s.error);
    w.EndObject();
  }
  w.EndArray().EndObject();
  ctx.Json(200, std::move(w).Take());
}

}  // namespace closedloop
