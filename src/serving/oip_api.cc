#include "serving/oip_api.h"

#include <algorithm>
#include <charconv>

#include "core/json_writer.h"
#include "core/sha256.h"
#include "serving/infer_request.h"

namespace closedloop {

namespace http = boost::beast::http;

namespace {

// {"name", "datatype", "shape": [...]  (the object is left open)
void WriteTensorHeader(JsonWriter& w, const std::string& name, DataType type,
                       const std::vector<int64_t>& shape) {
  w.BeginObject().Key("name").String(name).Key("datatype").String(DataTypeName(type));
  w.Key("shape").BeginArray();
  for (int64_t d : shape) w.Int(d);
  w.EndArray();
}

void WriteSpec(JsonWriter& w, const TensorSpec& s) {
  WriteTensorHeader(w, s.name, s.datatype, s.shape);
  w.EndObject();
}

void WriteData(JsonWriter& w, const Tensor& t) {
  w.BeginArray();
  std::visit(
      [&w](const auto& values) {
        using V = typename std::decay_t<decltype(values)>::value_type;
        for (const auto& v : values) {
          if constexpr (std::is_same_v<V, std::string>) {
            w.String(v);
          } else if constexpr (std::is_same_v<V, uint8_t>) {
            w.Bool(v != 0);
          } else if constexpr (std::is_same_v<V, float> || std::is_same_v<V, double>) {
            w.Double(v);
          } else if constexpr (std::is_same_v<V, uint64_t>) {
            w.Uint(v);
          } else {
            w.Int(v);
          }
        }
      },
      t.values);
  w.EndArray();
}

void WriteTensor(JsonWriter& w, const Tensor& t) {
  WriteTensorHeader(w, t.name, t.datatype, t.shape);
  w.Key("data");
  WriteData(w, t);
  w.EndObject();
}

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

// Triton's classification form: per row, the top k as "p:index:label" strings.
StatusOr<Tensor> Classify(const Tensor& probs, int k, const std::vector<std::string>& labels) {
  const auto* p = probs.As<float>();
  if (p == nullptr || probs.shape.size() != 2 || labels.empty() ||
      probs.shape[1] != static_cast<int64_t>(labels.size())) {
    return InvalidArgument("output '" + probs.name +
                           "' does not hold class probabilities; 'classification' is not "
                           "available for it");
  }
  const int64_t rows = probs.shape[0], n = probs.shape[1];
  k = std::min<int>(k, static_cast<int>(n));
  Tensor out{probs.name, DataType::kBytes, {rows, k}, std::vector<std::string>()};
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
      v.push_back(num.str() + ":" + std::to_string(idx[i]) + ":" + labels[idx[i]]);
    }
  }
  return out;
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
  for (const std::string base : {"/v2/models/{model}", "/v2/models/{model}/versions/{version}"}) {
    router.Add(http::verb::get, base, [this](RequestContext& c) { ModelMetadata(c); });
    router.Add(http::verb::get, base + "/ready", [this](RequestContext& c) { ModelReady(c); });
    router.Add(http::verb::post, base + "/infer", [this](RequestContext& c) { Infer(c); });
  }
}

void OipApi::ServerMetadata(RequestContext& ctx) {
  JsonWriter w;
  w.BeginObject()
      .Key("name")
      .String("closedloop")
      .Key("version")
      .String(CLOSEDLOOP_VERSION)
      .Key("extensions")
      .BeginArray()
      .String("classification")
      .EndArray()
      .EndObject();
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
  for (const auto& s : m.backend->InputSpecs()) WriteSpec(w, s);
  w.EndArray().Key("outputs").BeginArray();
  for (const auto& s : m.backend->OutputSpecs()) WriteSpec(w, s);
  w.EndArray().EndObject();
  ctx.Json(200, std::move(w).Take());
}

void OipApi::ModelReady(RequestContext& ctx) {
  auto mv = Resolve(ctx);
  if (!mv.ok()) {
    // Known model, unknown version or alias: "not ready" (4xx, as the protocol says).
    if (mv.status().code() == StatusCode::kNotFound &&
        models_.ReadyVersions(ctx.Param("model")).ok()) {
      return ctx.Json(400, ErrorBody(mv.status().message()));
    }
    return ctx.Error(mv.status());
  }
  ctx.status = 200;
  ctx.body.clear();
}

struct OipApi::InferCall {
  InferRequest req;
  std::shared_ptr<const ModelVersion> mv;
  std::chrono::steady_clock::time_point start;
  BatchTiming timing;  // filled by the batcher; compute times of an unbatched call too
};

void OipApi::Infer(RequestContext& ctx) {
  auto call = std::make_shared<InferCall>();
  call->start = clock_.MonotonicNow();
  InferLimits limits;
  limits.max_bytes_element = serving_.max_text_bytes;
  auto req = ParseInferRequest(ctx.request.body(), limits);
  if (!req.ok()) return ctx.Error(req.status());
  call->req = std::move(req).value();
  ctx.trace.Add("parse", call->start, clock_.MonotonicNow());
  auto resolved = Resolve(ctx);
  if (!resolved.ok()) return ctx.Error(resolved.status());
  call->mv = std::move(resolved).value();
  const ModelVersion& m = *call->mv;
  if (Status s = CheckInputs(call->req.inputs, m.backend->InputSpecs(), m.name); !s.ok()) {
    return ctx.Error(s);
  }
  auto specs = m.backend->OutputSpecs();
  for (const auto& o : call->req.outputs) {
    if (std::none_of(specs.begin(), specs.end(), [&](const auto& s) { return s.name == o.name; })) {
      std::string names;
      for (const auto& s : specs) names += (names.empty() ? "" : ", ") + s.name;
      return ctx.Error(InvalidArgument("unknown output '" + o.name + "' (model '" + m.name +
                                       "' outputs: " + names + ")"));
    }
  }
  if (m.batcher) {
    if (auto deferred = ctx.Defer()) {
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
        deferred->Finish([queued](RequestContext& c) {
          c.Json(503, ErrorBody(queued.message()));
          c.headers.emplace_back("Retry-After", "1");
        });
      }
      return;
    }
  }
  auto compute_start = clock_.MonotonicNow();
  auto outputs = m.backend->Infer(call->req.inputs);
  ctx.trace.Add("compute", compute_start, clock_.MonotonicNow());
  Respond(ctx, *call, std::move(outputs));
}

void OipApi::Respond(RequestContext& ctx, const InferCall& call,
                     StatusOr<std::vector<Tensor>> outputs) {
  if (!outputs.ok()) return ctx.Error(outputs.status());
  auto end = clock_.MonotonicNow();
  const ModelVersion& m = *call.mv;
  const Backend& backend = *m.backend;
  const InferRequest* req = &call.req;
  const auto start = call.start;

  // The response: all outputs, or the requested ones in the requested order.
  std::vector<Tensor> selected;
  if (req->outputs.empty()) {
    selected = *outputs;
  } else {
    for (const auto& o : req->outputs) {
      const Tensor& t = *std::find_if(outputs->begin(), outputs->end(),
                                      [&](const Tensor& x) { return x.name == o.name; });
      if (o.classification > 0) {
        auto c = Classify(t, o.classification, backend.labels());
        if (!c.ok()) return ctx.Error(c.status());
        selected.push_back(std::move(c).value());
      } else {
        selected.push_back(t);
      }
    }
  }
  JsonWriter w(4096);
  w.BeginObject()
      .Key("model_name")
      .String(m.name)
      .Key("model_version")
      .String(m.version_label)
      .Key("id")
      .String(req->id.empty() ? ctx.request_id : std::string_view(req->id))
      .Key("parameters")
      .BeginObject()
      .Key("request_id")
      .String(ctx.request_id)
      .EndObject()
      .Key("outputs")
      .BeginArray();
  for (const Tensor& t : selected) WriteTensor(w, t);
  w.EndArray().EndObject();
  ctx.Json(200, std::move(w).Take());

  // Log each row of a text classifier like a /v1/predict prediction. Row i > 0 gets
  // the id "<request_id>.<i>", so every row can be fetched and given feedback.
  const auto* texts = req->inputs.front().As<std::string>();
  auto probs = std::find_if(outputs->begin(), outputs->end(),
                            [](const Tensor& t) { return t.name == "probabilities"; });
  if (texts == nullptr || probs == outputs->end() || backend.labels().empty()) return;
  const auto& p = *probs->As<float>();
  const size_t nl = backend.labels().size();
  const double latency_ms = std::chrono::duration<double, std::milli>(end - start).count();
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

}  // namespace closedloop
