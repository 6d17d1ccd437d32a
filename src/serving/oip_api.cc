#include "serving/oip_api.h"

#include <algorithm>
#include <charconv>

#include "core/base64.h"
#include "core/json_writer.h"
#include "core/sha256.h"
#include "serving/image_input.h"
#include "serving/image_predict.h"
#include "serving/infer_request.h"
#include "serving/infer_response.h"
#include "serving/triton_model_info.h"

namespace closedloop {

namespace http = boost::beast::http;

namespace {

// Checks request inputs against the model's declared inputs.
Status CheckInputs(const std::vector<Tensor>& inputs, const std::vector<TensorSpec>& specs,
                   const std::string& model) {
  for (const Tensor& t : inputs) {
    auto spec = std::find_if(specs.begin(), specs.end(),
                             [&](const TensorSpec& s) { return s.name == t.name; });
    if (spec == specs.end()) {
      std::string names;
      for (const auto& s : specs) names += (names.empty() ? "" : ", ") + s.name;
      return InvalidArgument("model '" + model + "' has no input '" + t.name +
                             "' (inputs: " + names + ")");
    }
    if (spec->datatype != t.datatype) {
      return InvalidArgument("input '" + t.name + "' must be " +
                             std::string(DataTypeName(spec->datatype)) + ", not " +
                             std::string(DataTypeName(t.datatype)));
    }
    if (spec->shape.size() != t.shape.size()) {
      return InvalidArgument("input '" + t.name + "' must have shape " + ShapeString(spec->shape) +
                             ", not " + ShapeString(t.shape));
    }
    for (size_t i = 0; i < spec->shape.size(); ++i) {
      if (spec->shape[i] >= 0 && spec->shape[i] != t.shape[i]) {
        return InvalidArgument("input '" + t.name + "' must have shape " +
                               ShapeString(spec->shape) + ", not " + ShapeString(t.shape));
      }
    }
  }
  for (const TensorSpec& s : specs) {
    bool given = std::any_of(inputs.begin(), inputs.end(),
                             [&](const Tensor& t) { return t.name == s.name; });
    if (!given) return InvalidArgument("missing input '" + s.name + "'");
  }
  return OkStatus();
}

// Triton's classification form: per row, the top k as "score:index:label" strings
// ("score:index" when the model has no label names). `scores` is [n] or [batch, n].
StatusOr<Tensor> Classify(const Tensor& scores, int k, const std::vector<std::string>& labels) {
  const auto* p = scores.As<float>();
  const bool shaped = scores.shape.size() == 1 || scores.shape.size() == 2;
  if (p == nullptr || !shaped || scores.shape.back() < 1 ||
      (!labels.empty() && scores.shape.back() != static_cast<int64_t>(labels.size()))) {
    return InvalidArgument("output '" + scores.name +
                           "' does not hold class scores (FP32 [batch, classes]); "
                           "'classification' is not available for it");
  }
  const int64_t n = scores.shape.back();
  const int64_t rows = scores.shape.size() == 2 ? scores.shape[0] : 1;
  k = std::min<int>(k, static_cast<int>(n));
  Tensor out{scores.name, DataType::kBytes, {rows, k}, std::vector<std::string>()};
  if (scores.shape.size() == 1) out.shape = {k};
  auto& v = std::get<std::vector<std::string>>(out.values);
  std::vector<int> idx(static_cast<size_t>(n));
  for (int64_t r = 0; r < rows; ++r) {
    for (int i = 0; i < n; ++i) idx[i] = i;
    const float* row = p->data() + r * n;
    std::partial_sort(idx.begin(), idx.begin() + k, idx.end(),
                      [row](int a, int b) { return row[a] > row[b]; });
    for (int i = 0; i < k; ++i) {
      JsonWriter num(32);
      num.Double(row[idx[i]]);
      std::string entry = num.str() + ":" + std::to_string(idx[i]);
      if (!labels.empty()) entry += ":" + labels[idx[i]];
      v.push_back(std::move(entry));
    }
  }
  return out;
}

uint64_t Nanos(std::chrono::steady_clock::duration d) {
  return static_cast<uint64_t>(std::max<int64_t>(0, std::chrono::nanoseconds(d).count()));
}

}  // namespace

OipApi::OipApi(const ServingConfig& serving, const PredictionLogConfig& log_config,
               ModelRepository& models, PredictionLog& log, const Clock& clock)
    : serving_(serving),
      store_inputs_(log_config.store_inputs),
      models_(models),
      log_(log),
      clock_(clock) {}

void OipApi::Register(Router& router) {
  router.Add(http::verb::get, "/v2", [this](RequestContext& c) { ServerMetadata(c); });
  // Before "/v2/models/{model}", which would take "stats" for a model name.
  router.Add(http::verb::get, "/v2/models/stats", [this](RequestContext& c) { Stats(c); });
  for (const std::string base : {"/v2/models/{model}", "/v2/models/{model}/versions/{version}"}) {
    router.Add(http::verb::get, base, [this](RequestContext& c) { ModelMetadata(c); });
    router.Add(http::verb::get, base + "/ready", [this](RequestContext& c) { ModelReady(c); });
    router.Add(http::verb::get, base + "/config", [this](RequestContext& c) { ModelConfig(c); });
    router.Add(http::verb::get, base + "/stats", [this](RequestContext& c) { Stats(c); });
    // JSON, or a JSON header and binary tensor data (application/octet-stream).
    router.Add(
        http::verb::post, base + "/infer", [this](RequestContext& c) { Infer(c); }, BodyMedia::kAny,
        serving_.image_body_limit_bytes);
  }
}

void OipApi::ServerMetadata(RequestContext& ctx) {
  JsonWriter w;
  w.BeginObject().Key("name").String("closedloop").Key("version").String(CLOSEDLOOP_VERSION);
  w.Key("extensions").BeginArray();
  for (const char* e : {"classification", "binary_tensor_data", "model_repository",
                        "model_configuration", "statistics"}) {
    w.String(e);
  }
  w.EndArray().EndObject();
  ctx.Json(200, std::move(w).Take());
}

StatusOr<std::shared_ptr<const ModelVersion>> OipApi::Resolve(RequestContext& ctx) {
  ASSIGN_OR_RETURN(auto mv, models_.Resolve(ctx.Param("model"), ctx.Param("version")));
  ctx.model_label = mv->name;
  ctx.version_label = mv->version_label;
  return mv;
}

void OipApi::ModelMetadata(RequestContext& ctx) {
  auto mv = Resolve(ctx);
  if (!mv.ok()) return ctx.Error(mv.status());
  const ModelVersion& m = **mv;
  auto versions = models_.ReadyVersions(m.name);
  JsonWriter w;
  w.BeginObject().Key("name").String(m.name).Key("versions").BeginArray();
  if (versions.ok()) {
    for (int64_t v : *versions) w.String(std::to_string(v));
  }
  w.EndArray().Key("platform").String(m.backend->flavor()).Key("inputs").BeginArray();
  for (const auto& s : m.backend->InputSpecs()) WriteTensorSpec(w, s);
  w.EndArray().Key("outputs").BeginArray();
  for (const auto& s : m.backend->OutputSpecs()) WriteTensorSpec(w, s);
  w.EndArray().EndObject();
  ctx.Json(200, std::move(w).Take());
}

void OipApi::ModelReady(RequestContext& ctx) {
  auto mv = Resolve(ctx);
  if (!mv.ok()) {
    // A model that exists but does not serve (failed, unloaded), or a known model's
    // unknown version or alias: "not ready" (4xx, as the protocol says).
    if (mv.status().code() == StatusCode::kUnavailable ||
        (mv.status().code() == StatusCode::kNotFound &&
         models_.ReadyVersions(ctx.Param("model")).ok())) {
      return ctx.Json(400, ErrorBody(mv.status().message()));
    }
    return ctx.Error(mv.status());
  }
  ctx.status = 200;
  ctx.body.clear();
}

void OipApi::ModelConfig(RequestContext& ctx) {
  auto mv = Resolve(ctx);
  if (!mv.ok()) return ctx.Error(mv.status());
  auto policy = models_.Policy((*mv)->name);
  ctx.Json(200, ModelConfigJson(**mv, policy.ok() ? *policy : VersionPolicy{}));
}

void OipApi::Stats(RequestContext& ctx) {
  std::vector<std::shared_ptr<const ModelVersion>> versions;
  const std::string_view model = ctx.Param("model");
  if (!ctx.Param("version").empty()) {
    auto mv = Resolve(ctx);
    if (!mv.ok()) return ctx.Error(mv.status());
    versions.push_back(std::move(mv).value());
  } else {
    // Every served version of one model (or of all models), as Triton lists them.
    for (const ModelState& st : models_.List()) {
      if (!st.ready || (!model.empty() && st.name != model.substr(0, model.find('@')))) continue;
      auto mv = models_.Resolve(st.name, std::to_string(st.version));
      if (mv.ok()) versions.push_back(std::move(mv).value());
    }
    if (!model.empty() && versions.empty()) {
      auto mv = models_.Resolve(model, "");  // the reason: unknown or not ready
      return ctx.Error(mv.ok() ? NotFound("model '" + std::string(model) + "' is not loaded")
                               : mv.status());
    }
    if (!model.empty() && model.find('@') != std::string_view::npos) {
      auto mv = Resolve(ctx);  // an alias names one version
      if (!mv.ok()) return ctx.Error(mv.status());
      versions.assign(1, std::move(mv).value());
    }
  }
  ctx.Json(200, ModelStatsJson(versions));
}

struct OipApi::InferCall {
  InferRequest req;
  std::shared_ptr<const ModelVersion> mv;
  std::chrono::steady_clock::time_point start;
  std::chrono::steady_clock::time_point prepared;  // parsed and checked (compute_input)
  BatchTiming timing;  // filled by the batcher; compute times of an unbatched call too
  bool batched = false;
  std::vector<PreparedImage> images;  // image models: each row as the log keeps it
};

namespace {

// An image model's input: a BYTES tensor of encoded images is decoded and
// preprocessed into the FP32 tensor the model takes; an FP32 tensor is taken as
// given (already normalized) after a finiteness check. Every row is described
// for the log.
Status PrepareImageInputs(InferRequest& req, const Backend& b, const ImageConfig& ic,
                          std::vector<PreparedImage>& images) {
  const std::string name = ImageInputName(ic, b);
  for (Tensor& t : req.inputs) {
    if (t.name != name) continue;
    if (const auto* encoded = t.As<std::string>()) {
      images.clear();
      for (const std::string& element : *encoded) {
        // Raw file bytes (binary tensor data), or base64 text in a JSON "data" array.
        std::string decoded;
        if (!EncodedImageSize(element).ok()) {
          if (auto b = Base64Decode(element); b.ok()) decoded = std::move(b).value();
        }
        ASSIGN_OR_RETURN(PreparedImage p,
                         PrepareEncodedImage(decoded.empty() ? element : decoded, ic, name));
        images.push_back(std::move(p));
      }
      std::vector<const PreparedImage*> rows;
      for (const auto& p : images) rows.push_back(&p);
      t = ImageBatchTensor(rows, ic, b);
      for (auto& p : images) std::vector<float>().swap(p.values);
    } else if (const auto* v = t.As<float>()) {
      RETURN_IF_ERROR(CheckFiniteImageValues(v->data(), v->size(), name));
      const size_t per = static_cast<size_t>(ic.width) * ic.height * ic.channels;
      if (t.shape.size() == 4 && v->size() % per == 0) {
        for (size_t r = 0; r < v->size() / per; ++r) {
          images.push_back(DescribeImageTensorRow(v->data() + r * per, ic));
        }
      }
    }
  }
  return OkStatus();
}

}  // namespace

void OipApi::Fail(RequestContext& ctx, const InferCall& call, const Status& status) {
  if (call.mv) {
    call.mv->stats->RecordFailure(Nanos(clock_.MonotonicNow() - call.start),
                                  clock_.NowUnixMillis());
  }
  ctx.Error(status);
}

void OipApi::Infer(RequestContext& ctx) {
  auto call = std::make_shared<InferCall>();
  call->start = clock_.MonotonicNow();
  InferLimits limits;
  limits.max_bytes_element = serving_.max_text_bytes;
  std::optional<uint64_t> header_length;
  if (auto field = ctx.request.find("Inference-Header-Content-Length");
      field != ctx.request.end()) {
    auto n = ParseHeaderLength(field->value());
    if (!n.ok()) return ctx.Error(n.status());
    header_length = *n;
  }
  auto resolved = Resolve(ctx);
  if (resolved.ok() && (*resolved)->config.image) {  // BYTES elements are encoded images
    limits.max_bytes_element = std::max(limits.max_bytes_element, serving_.image_body_limit_bytes);
  }
  auto req = ParseInferRequest(ctx.request.body(), limits, header_length);
  auto parsed = clock_.MonotonicNow();
  ctx.trace.Add("parse", call->start, parsed);
  if (!resolved.ok()) return ctx.Error(req.ok() ? resolved.status() : req.status());
  call->mv = std::move(resolved).value();
  if (!req.ok()) return Fail(ctx, *call, req.status());
  call->req = std::move(req).value();
  const ModelVersion& m = *call->mv;
  if (m.config.image) {
    const auto pre_start = clock_.MonotonicNow();
    Status s = PrepareImageInputs(call->req, *m.backend, *m.config.image, call->images);
    ctx.trace.Add("preprocess", pre_start, clock_.MonotonicNow());
    if (!s.ok()) return Fail(ctx, *call, s);
  }
  if (Status s = CheckInputs(call->req.inputs, m.backend->InputSpecs(), m.name); !s.ok()) {
    return Fail(ctx, *call, s);
  }
  auto specs = m.backend->OutputSpecs();
  for (const auto& o : call->req.outputs) {
    if (std::none_of(specs.begin(), specs.end(), [&](const auto& s) { return s.name == o.name; })) {
      std::string names;
      for (const auto& s : specs) names += (names.empty() ? "" : ", ") + s.name;
      return Fail(ctx, *call,
                  InvalidArgument("unknown output '" + o.name + "' (model '" + m.name +
                                  "' outputs: " + names + ")"));
    }
  }
  call->prepared = clock_.MonotonicNow();
  if (m.batcher) {
    if (auto deferred = ctx.Defer()) {
      call->batched = true;
      Status queued = m.batcher->Submit(
          call->req.inputs,
          [this, call, deferred](StatusOr<std::vector<Tensor>> outputs) {
            deferred->Finish([this, call, outputs = std::move(outputs)](RequestContext& c) {
              c.trace.Add("queue", call->timing.enqueued, call->timing.started);
              c.trace.Add("compute", call->timing.started, call->timing.finished);
              Respond(c, *call, outputs);
            });
          },
          &call->timing);
      if (!queued.ok()) {
        deferred->Finish([this, call, queued](RequestContext& c) {
          Fail(c, *call, Unavailable(queued.message()));
          c.headers.emplace_back("Retry-After", "1");
        });
      }
      return;
    }
  }
  call->timing.enqueued = call->timing.started = clock_.MonotonicNow();
  auto outputs = m.backend->Infer(call->req.inputs);
  call->timing.finished = clock_.MonotonicNow();
  ctx.trace.Add("compute", call->timing.started, call->timing.finished);
  Respond(ctx, *call, std::move(outputs));
}

void OipApi::Respond(RequestContext& ctx, const InferCall& call,
                     StatusOr<std::vector<Tensor>> outputs) {
  if (!outputs.ok()) return Fail(ctx, call, outputs.status());
  const ModelVersion& m = *call.mv;
  const Backend& backend = *m.backend;
  const InferRequest* req = &call.req;
  const auto output_start = clock_.MonotonicNow();

  // The response: all outputs, or the requested ones in the requested order; each
  // binary when it asks (binary_data) or the request does (binary_data_output).
  std::vector<Tensor> classified;  // classification outputs, built here
  classified.reserve(req->outputs.size());
  std::vector<ResponseOutput> selected;
  if (req->outputs.empty()) {
    for (const Tensor& t : *outputs) selected.push_back({&t, req->binary_data_output});
  } else {
    for (const auto& o : req->outputs) {
      const Tensor& t = *std::find_if(outputs->begin(), outputs->end(),
                                      [&](const Tensor& x) { return x.name == o.name; });
      const bool binary = o.binary.value_or(req->binary_data_output);
      if (o.classification > 0) {
        // A classifier's label or confidence output asked for classes: its classes
        // are the probabilities' (Triton would refuse a BYTES output; this is kinder).
        const Tensor* source = &t;
        if (t.name != "probabilities" && !backend.labels().empty()) {
          auto probs = std::find_if(outputs->begin(), outputs->end(),
                                    [](const Tensor& x) { return x.name == "probabilities"; });
          if (probs != outputs->end()) source = &*probs;
        }
        auto c = Classify(*source, o.classification, backend.labels());
        if (!c.ok()) return Fail(ctx, call, c.status());
        c->name = o.name;
        classified.push_back(std::move(c).value());
        selected.push_back({&classified.back(), binary});
      } else {
        selected.push_back({&t, binary});
      }
    }
  }
  EncodedInferResponse encoded = EncodeInferResponse(
      m.name, m.version_label, req->id.empty() ? ctx.request_id : std::string_view(req->id),
      ctx.request_id, selected);
  ctx.Json(200, std::move(encoded.body));
  if (encoded.header_length) {
    ctx.content_type = "application/octet-stream";
    ctx.headers.emplace_back("Inference-Header-Content-Length",
                             std::to_string(*encoded.header_length));
  }
  const auto end = clock_.MonotonicNow();

  RequestTimes times;
  const Tensor& first = req->inputs.front();
  times.rows =
      first.shape.empty() ? 1 : static_cast<uint64_t>(std::max<int64_t>(1, first.shape[0]));
  times.total_ns = Nanos(end - call.start);
  times.queue_ns = Nanos(call.timing.started - call.timing.enqueued);
  times.input_ns = Nanos(call.prepared - call.start);
  times.infer_ns = Nanos(call.timing.finished - call.timing.started);
  times.output_ns = Nanos(end - output_start);
  m.stats->RecordSuccess(times, clock_.NowUnixMillis());
  if (!call.batched) {  // the batcher records its own executions
    m.stats->RecordExecution(times.rows, times.input_ns, times.infer_ns, times.output_ns);
  }
  LogRows(ctx, call, *outputs, end);
}

void OipApi::LogRows(RequestContext& ctx, const InferCall& call, const std::vector<Tensor>& outputs,
                     std::chrono::steady_clock::time_point end) {
  // Log each row of a text classifier like a /v1/predict prediction. Row i > 0 gets
  // the id "<request_id>.<i>", so every row can be fetched and given feedback.
  const ModelVersion& m = *call.mv;
  const Backend& backend = *m.backend;
  if (m.config.image) return LogImageRows(ctx, call, outputs, end);
  const auto* texts = call.req.inputs.front().As<std::string>();
  auto probs = std::find_if(outputs.begin(), outputs.end(),
                            [](const Tensor& t) { return t.name == "probabilities"; });
  if (texts == nullptr || probs == outputs.end() || backend.labels().empty()) return;
  const auto& p = *probs->As<float>();
  const size_t nl = backend.labels().size();
  const double latency_ms = std::chrono::duration<double, std::milli>(end - call.start).count();
  const auto log_start = clock_.MonotonicNow();
  for (size_t i = 0; i < texts->size(); ++i) {
    std::vector<int> idx(nl);
    for (size_t j = 0; j < nl; ++j) idx[j] = static_cast<int>(j);
    const float* row = p.data() + i * nl;
    size_t k = std::min<size_t>(static_cast<size_t>(m.config.top_k), nl);
    std::partial_sort(idx.begin(), idx.begin() + static_cast<long>(k), idx.end(),
                      [row](int a, int b) { return row[a] > row[b]; });
    JsonWriter top;
    top.BeginArray();
    for (size_t j = 0; j < k; ++j) {
      top.BeginObject()
          .Key("label")
          .String(backend.labels()[idx[j]])
          .Key("p")
          .Double(row[idx[j]])
          .EndObject();
    }
    top.EndArray();
    PredictionRecord rec;
    rec.request_id = std::string(ctx.request_id);
    if (i > 0) rec.request_id += "." + std::to_string(i);
    rec.ts_ms = clock_.NowUnixMillis();
    rec.model = m.name;
    rec.version = m.version_label;
    rec.input_sha256 = Sha256Hex((*texts)[i]);
    if (store_inputs_) rec.input_text = (*texts)[i];
    rec.label = backend.labels()[idx[0]];
    rec.confidence = row[idx[0]];
    rec.top_k_json = std::move(top).Take();
    rec.latency_ms = latency_ms;
    log_.Append(rec);
  }
  ctx.trace.Add("log", log_start, clock_.MonotonicNow());
}

void OipApi::LogImageRows(RequestContext& ctx, const InferCall& call,
                          const std::vector<Tensor>& outputs,
                          std::chrono::steady_clock::time_point end) {
  // Each image row is logged like a /v1/predict image prediction (ids as LogRows).
  const ModelVersion& m = *call.mv;
  const Backend& backend = *m.backend;
  const ImageConfig& ic = *m.config.image;
  auto read = ReadImageOutputs(outputs, ic, backend, call.images.size());
  if (!read.ok() || call.images.empty()) return;
  const double latency_ms = std::chrono::duration<double, std::milli>(end - call.start).count();
  const auto log_start = clock_.MonotonicNow();
  for (size_t i = 0; i < call.images.size(); ++i) {
    LabelScores top = TopLabels(read->probabilities[i], static_cast<size_t>(m.config.top_k));
    JsonWriter topj;
    topj.BeginArray();
    for (const auto& s : top) {
      topj.BeginObject().Key("label").String(backend.labels()[s.index]).Key("p").Double(s.p);
      topj.EndObject();
    }
    topj.EndArray();
    PredictionRecord rec;
    rec.request_id = std::string(ctx.request_id);
    if (i > 0) rec.request_id += "." + std::to_string(i);
    rec.ts_ms = clock_.NowUnixMillis();
    rec.model = m.name;
    rec.version = m.version_label;
    rec.input_sha256 = call.images[i].sha256;
    if (store_inputs_) {
      rec.input_text = ImageRecordJson(call.images[i],
                                       read->embeddings.empty() ? nullptr : &read->embeddings[i]);
    }
    rec.label = backend.labels()[top.front().index];
    rec.confidence = top.front().p;
    rec.top_k_json = std::move(topj).Take();
    rec.latency_ms = latency_ms;
    log_.Append(rec);
  }
  ctx.trace.Add("log", log_start, clock_.MonotonicNow());
}

}  // namespace closedloop
