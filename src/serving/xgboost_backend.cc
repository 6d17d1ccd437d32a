#include "serving/xgboost_backend.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>

#include <simdjson.h>
#include <xgboost/c_api.h>

namespace closedloop {
namespace {

Status XgbError(std::string_view what) {
  return InvalidArgument(std::string(what) + ": " + XGBGetLastError());
}

// {"type": T, "training": false, ..., "strict_shape": true, "missing": NaN}
std::string PredictConfig(int type) {
  return "{\"type\": " + std::to_string(type) +
         ", \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, "
         "\"strict_shape\": true, \"missing\": NaN, \"cache_id\": 0}";
}

void Softmax(float* v, int n) {
  float m = *std::max_element(v, v + n);
  float sum = 0;
  for (int i = 0; i < n; ++i) sum += (v[i] = std::exp(v[i] - m));
  for (int i = 0; i < n; ++i) v[i] /= sum;
}

}  // namespace

XGBoostBackend::~XGBoostBackend() {
  if (booster_ != nullptr) XGBoosterFree(booster_);
}

StatusOr<std::unique_ptr<XGBoostBackend>> XGBoostBackend::Load(
    const std::string& path, const std::vector<std::string>& labels) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return NotFound("model file '" + path + "' does not exist");
  }
  std::unique_ptr<XGBoostBackend> b(new XGBoostBackend());
  if (XGBoosterCreate(nullptr, 0, &b->booster_) != 0) return XgbError("creating a booster");
  if (XGBoosterLoadModel(b->booster_, path.c_str()) != 0) {
    return XgbError("cannot load XGBoost model '" + path + "'");
  }
  // The objective and class count live in the learner's JSON configuration.
  bst_ulong len = 0;
  const char* config = nullptr;
  if (XGBoosterSaveJsonConfig(b->booster_, &len, &config) != 0) return XgbError("reading config");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(config, len).get(doc)) return Internal("XGBoost config is not JSON");
  std::string_view objective, num_class = "0";
  if (doc["learner"]["objective"]["name"].get(objective)) {
    return InvalidArgument("'" + path + "' has no objective in its configuration");
  }
  if (doc["learner"]["learner_model_param"]["num_class"].get(num_class)) num_class = "0";
  b->objective_ = objective;
  int nc = std::atoi(std::string(num_class).c_str());
  if (b->objective_ == "binary:logistic" || b->objective_ == "binary:logitraw") {
    b->classes_ = 2;
  } else if (b->objective_ == "multi:softprob" || b->objective_ == "multi:softmax") {
    b->classes_ = nc;
  }
  bst_ulong nf = 0;
  if (XGBoosterGetNumFeature(b->booster_, &nf) != 0) return XgbError("reading features");
  bst_ulong nnames = 0;
  const char** names = nullptr;
  if (XGBoosterGetStrFeatureInfo(b->booster_, "feature_name", &nnames, &names) == 0 &&
      nnames == nf) {
    for (bst_ulong i = 0; i < nnames; ++i) b->features_.emplace_back(names[i]);
  } else {
    for (bst_ulong i = 0; i < nf; ++i) b->features_.push_back("f" + std::to_string(i));
  }
  if (b->classes_ > 0) {
    if (!labels.empty() && static_cast<int>(labels.size()) != b->classes_) {
      return InvalidArgument("config.toml lists " + std::to_string(labels.size()) +
                             " labels but the model has " + std::to_string(b->classes_) +
                             " classes");
    }
    for (int i = 0; i < b->classes_; ++i) {
      b->labels_.push_back(labels.empty() ? std::to_string(i) : labels[i]);
    }
  }
  return b;
}

StatusOr<std::vector<float>> XGBoostBackend::PredictRaw(const float* data, size_t rows) const {
  const size_t nf = features_.size();
  char values[256];
  std::snprintf(values, sizeof values,
                "{\"data\": [%llu, true], \"shape\": [%zu, %zu], \"typestr\": \"<f4\", "
                "\"version\": 3}",
                static_cast<unsigned long long>(reinterpret_cast<uintptr_t>(data)), rows, nf);
  // multi:softmax and binary:logitraw do not output probabilities: ask for margins.
  bool margins = objective_ == "multi:softmax" || objective_ == "binary:logitraw";
  static const std::string kNormal = PredictConfig(0), kMargin = PredictConfig(1);
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* result = nullptr;
  if (XGBoosterPredictFromDense(booster_, values, (margins ? kMargin : kNormal).c_str(), nullptr,
                                &shape, &dim, &result) != 0) {
    return XgbError("XGBoost prediction failed");
  }
  size_t total = 1;
  for (bst_ulong i = 0; i < dim; ++i) total *= shape[i];
  std::vector<float> out(result, result + total);  // the buffer is XGBoost's: copy it now
  if (classes_ == 2 && total == rows) {            // binary: one probability (or margin) per row
    std::vector<float> two(rows * 2);
    for (size_t r = 0; r < rows; ++r) {
      float p = margins ? 1.0f / (1.0f + std::exp(-out[r])) : out[r];
      two[2 * r] = 1 - p;
      two[2 * r + 1] = p;
    }
    return two;
  }
  if (margins && classes_ > 2) {
    for (size_t r = 0; r < rows; ++r) Softmax(out.data() + r * classes_, classes_);
  }
  return out;
}

StatusOr<std::vector<float>> XGBoostBackend::Contributions(const std::vector<float>& row) const {
  std::lock_guard lock(explain_mu_);
  DMatrixHandle dmat = nullptr;
  if (XGDMatrixCreateFromMat(row.data(), 1, features_.size(), std::nanf(""), &dmat) != 0) {
    return XgbError("building the explanation input");
  }
  static const std::string kContrib = PredictConfig(2);
  const bst_ulong* shape = nullptr;
  bst_ulong dim = 0;
  const float* result = nullptr;
  int rc = XGBoosterPredictFromDMatrix(booster_, dmat, kContrib.c_str(), &shape, &dim, &result);
  std::vector<float> out;
  if (rc == 0) {
    size_t total = 1;
    for (bst_ulong i = 0; i < dim; ++i) total *= shape[i];
    out.assign(result, result + total);  // [1, groups, features + 1] with strict_shape
  }
  XGDMatrixFree(dmat);
  if (rc != 0) return XgbError("XGBoost contributions failed");
  return out;
}

StatusOr<TabularPrediction> XGBoostBackend::PredictRow(const std::vector<float>& row,
                                                       bool explain) const {
  if (row.size() != features_.size()) {
    return InvalidArgument("expected " + std::to_string(features_.size()) + " features, got " +
                           std::to_string(row.size()));
  }
  ASSIGN_OR_RETURN(std::vector<float> raw, PredictRaw(row.data(), 1));
  TabularPrediction out;
  size_t group = 0;  // which output group the explanation is for
  if (classes_ > 0) {
    for (int i = 0; i < classes_; ++i) out.scores.push_back({i, raw[static_cast<size_t>(i)]});
    std::stable_sort(out.scores.begin(), out.scores.end(),
                     [](const ScoredLabel& a, const ScoredLabel& b) { return a.p > b.p; });
    group = classes_ > 2 ? static_cast<size_t>(out.scores.front().index) : 0;
  } else {
    out.value = raw.at(0);
  }
  if (explain) {
    ASSIGN_OR_RETURN(std::vector<float> c, Contributions(row));
    const size_t width = features_.size() + 1;
    if (c.size() < (group + 1) * width) return Internal("unexpected contributions shape");
    out.contributions.assign(c.begin() + static_cast<long>(group * width),
                             c.begin() + static_cast<long>((group + 1) * width));
  }
  return out;
}

std::vector<TensorSpec> XGBoostBackend::InputSpecs() const {
  return {{"features", DataType::kFp32, {-1, static_cast<int64_t>(features_.size())}}};
}

std::vector<TensorSpec> XGBoostBackend::OutputSpecs() const {
  if (classes_ == 0) return {{"prediction", DataType::kFp32, {-1}}};
  return {{"label", DataType::kBytes, {-1}},
          {"confidence", DataType::kFp32, {-1}},
          {"probabilities", DataType::kFp32, {-1, classes_}}};
}

StatusOr<std::vector<Tensor>> XGBoostBackend::Infer(const std::vector<Tensor>& inputs) const {
  const auto& x = *inputs.at(0).As<float>();
  const int64_t rows = inputs[0].shape[0];
  ASSIGN_OR_RETURN(std::vector<float> raw, PredictRaw(x.data(), static_cast<size_t>(rows)));
  if (classes_ == 0) {
    return std::vector<Tensor>{{"prediction", DataType::kFp32, {rows}, std::move(raw)}};
  }
  Tensor label{"label", DataType::kBytes, {rows}, std::vector<std::string>()};
  Tensor conf{"confidence", DataType::kFp32, {rows}, std::vector<float>()};
  for (int64_t r = 0; r < rows; ++r) {
    const float* p = raw.data() + r * classes_;
    int best = static_cast<int>(std::max_element(p, p + classes_) - p);
    std::get<std::vector<std::string>>(label.values).push_back(labels_[best]);
    std::get<std::vector<float>>(conf.values).push_back(p[best]);
  }
  Tensor probs{"probabilities", DataType::kFp32, {rows, classes_}, std::move(raw)};
  return std::vector<Tensor>{std::move(label), std::move(conf), std::move(probs)};
}

}  // namespace closedloop
