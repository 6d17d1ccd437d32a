#include "learn/tabular_trainer.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include <xgboost/c_api.h>

#include "learn/profile_builder.h"
#include "learn/staged_dir.h"
#include "learn/training_data.h"
#include "serving/model_config.h"
#include "serving/xgboost_backend.h"

namespace closedloop {
namespace fs = std::filesystem;

namespace {

Status XgbError(const std::string& what) {
  return Internal("XGBoost: " + what + ": " + XGBGetLastError());
}

// "nan", "inf", "-Infinity"...: a number, but not one a feature can hold.
bool IsNonFinite(const std::string& cell) {
  double v = 0;
  auto [ptr, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), v);
  return ec == std::errc() && ptr == cell.data() + cell.size() && !std::isfinite(v);
}

bool ParseFloat(const std::string& cell, float& out) {
  auto [ptr, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), out);
  return ec == std::errc() && ptr == cell.data() + cell.size() && std::isfinite(out);
}

// Owns a DMatrix handle.
struct Matrix {
  DMatrixHandle h = nullptr;
  Matrix() = default;
  Matrix(const Matrix&) = delete;
  Matrix& operator=(const Matrix&) = delete;
  ~Matrix() {
    if (h != nullptr) XGDMatrixFree(h);
  }
};
struct Booster {
  BoosterHandle h = nullptr;
  Booster() = default;
  Booster(const Booster&) = delete;
  Booster& operator=(const Booster&) = delete;
  ~Booster() {
    if (h != nullptr) XGBoosterFree(h);
  }
};

struct Layout {
  std::vector<size_t> cols;  // feature columns of the table
  std::vector<std::string> names;
  CategoryMap categories;
  std::vector<std::string> labels;  // sorted
};

StatusOr<Layout> DecideLayout(const TabularTrainOptions& o, const TrainingData& d) {
  const CsvTable& t = d.data;
  Layout l;
  size_t lc = *t.Column(o.label_col);
  for (const auto& c : o.ignore_cols) RETURN_IF_ERROR(t.Column(c).status());
  for (const auto& c : o.categorical_cols) RETURN_IF_ERROR(t.Column(c).status());
  std::set<std::string> labels;
  for (size_t r : d.train_rows) labels.insert(t.rows[r][lc]);
  l.labels.assign(labels.begin(), labels.end());
  if (l.labels.size() < 2) return InvalidArgument("the training rows have fewer than 2 labels");
  for (size_t c = 0; c < t.header.size(); ++c) {
    const std::string& name = t.header[c];
    if (c == lc || std::count(o.ignore_cols.begin(), o.ignore_cols.end(), name) > 0) continue;
    bool categorical = std::count(o.categorical_cols.begin(), o.categorical_cols.end(), name) > 0;
    std::set<std::string> values;
    for (size_t r : d.train_rows) {
      const std::string& cell = t.rows[r][c];
      if (cell.empty()) continue;
      float f = 0;
      if (!categorical && IsNonFinite(cell)) {
        return InvalidArgument("row " + std::to_string(r + 1) + ", column '" + name + "': '" +
                               cell +
                               "' is not a finite number (leave the cell empty for a missing "
                               "value)");
      }
      if (!ParseFloat(cell, f)) categorical = true;
      values.insert(cell);
    }
    if (categorical) l.categories[name].assign(values.begin(), values.end());
    l.cols.push_back(c);
    l.names.push_back(name);
  }
  if (l.cols.empty()) return InvalidArgument("no feature columns besides the label");
  return l;
}

// Row-major features of `rows` (NaN = missing), their label indices and weights.
StatusOr<std::vector<float>> Features(const CsvTable& t, const std::vector<size_t>& rows,
                                      const Layout& l) {
  std::vector<float> x;
  x.reserve(rows.size() * l.cols.size());
  for (size_t r : rows) {
    for (size_t f = 0; f < l.cols.size(); ++f) {
      const std::string& cell = t.rows[r][l.cols[f]];
      float v = std::nanf("");
      auto cats = l.categories.find(l.names[f]);
      if (cell.empty()) {
      } else if (cats != l.categories.end()) {
        v = CategoryCode(cats->second, cell);
      } else if (!ParseFloat(cell, v)) {
        return InvalidArgument("row " + std::to_string(r + 1) + ", column '" + l.names[f] + "': '" +
                               cell +
                               (IsNonFinite(cell) ? "' is not a finite number (leave the cell "
                                                    "empty for a missing value)"
                                                  : "' is not a number"));
      }
      x.push_back(v);
    }
  }
  return x;
}

StatusOr<std::vector<float>> LabelIndices(const CsvTable& t, size_t lc,
                                          const std::vector<size_t>& rows, const Layout& l) {
  std::vector<float> y;
  for (size_t r : rows) {
    auto it = std::lower_bound(l.labels.begin(), l.labels.end(), t.rows[r][lc]);
    if (it == l.labels.end() || *it != t.rows[r][lc]) {
      return InvalidArgument("row " + std::to_string(r + 1) + ": label '" + t.rows[r][lc] +
                             "' does not occur in the training rows");
    }
    y.push_back(static_cast<float>(it - l.labels.begin()));
  }
  return y;
}

Status MakeMatrix(const std::vector<float>& x, const std::vector<float>& y,
                  const std::vector<float>* w, const Layout& l, Matrix& m) {
  const auto nrow = static_cast<bst_ulong>(y.size());
  if (XGDMatrixCreateFromMat(x.data(), nrow, static_cast<bst_ulong>(l.cols.size()), std::nanf(""),
                             &m.h) != 0) {
    return XgbError("creating a matrix");
  }
  if (XGDMatrixSetFloatInfo(m.h, "label", y.data(), nrow) != 0) return XgbError("labels");
  if (w != nullptr && XGDMatrixSetFloatInfo(m.h, "weight", w->data(), nrow) != 0) {
    return XgbError("weights");
  }
  std::vector<const char*> names, types;
  for (const auto& n : l.names) {
    names.push_back(n.c_str());
    types.push_back(l.categories.count(n) > 0 ? "c" : "q");
  }
  if (XGDMatrixSetStrFeatureInfo(m.h, "feature_name", names.data(), names.size()) != 0 ||
      XGDMatrixSetStrFeatureInfo(m.h, "feature_type", types.data(), types.size()) != 0) {
    return XgbError("feature names and types");
  }
  return OkStatus();
}

// "[12]\tvalidation-mlogloss:0.4321" -> 0.4321
double ParseEvalLoss(const char* text) {
  std::string s(text);
  auto colon = s.rfind(':');
  return colon == std::string::npos ? NAN : std::atof(s.c_str() + colon + 1);
}

}  // namespace

StatusOr<TabularTrainResult> TrainTabularClassifier(const TabularTrainOptions& o) {
  ASSIGN_OR_RETURN(StagedDir staged, StagedDir::Create(o.output_dir, o.overwrite));
  DataSources sources{o.inputs, o.validation_inputs,   o.test_inputs,   o.format, o.label_col, {},
                      {},       o.validation_fraction, o.test_fraction, o.seed};
  ASSIGN_OR_RETURN(TrainingData d, LoadTrainingData(sources));
  ASSIGN_OR_RETURN(Layout layout, DecideLayout(o, d));
  const size_t lc = *d.data.Column(o.label_col);
  for (const auto& n : layout.names) RETURN_IF_ERROR(d.validation_table().Column(n).status());

  TabularTrainResult result;
  result.data_sha256 = d.data_sha256;
  result.labels = layout.labels;
  result.features = layout.names;
  result.categories = layout.categories;
  result.train_rows = d.train_rows.size();

  ASSIGN_OR_RETURN(std::vector<float> xt, Features(d.data, d.train_rows, layout));
  ASSIGN_OR_RETURN(std::vector<float> yt, LabelIndices(d.data, lc, d.train_rows, layout));
  const CsvTable& vt = d.validation_table();
  const size_t vlc = *vt.Column(o.label_col);
  ASSIGN_OR_RETURN(std::vector<float> xv, Features(vt, d.validation_rows, layout));
  ASSIGN_OR_RETURN(std::vector<float> yv, LabelIndices(vt, vlc, d.validation_rows, layout));
  if (yv.empty()) return InvalidArgument("no validation rows");

  // Class weights as row weights.
  const size_t k = layout.labels.size();
  std::vector<double> class_w(k, 1.0);
  if (o.class_weight == "balanced") {
    std::vector<double> count(k, 0);
    for (float y : yt) count[static_cast<size_t>(y)] += 1;
    for (size_t c = 0; c < k; ++c) {
      class_w[c] = static_cast<double>(yt.size()) / (static_cast<double>(k) * count[c]);
    }
  } else if (o.class_weight != "none") {
    return InvalidArgument("class weight '" + o.class_weight + "' is not none or balanced");
  }
  for (const auto& [label, w] : o.class_weights) {
    auto it = std::lower_bound(layout.labels.begin(), layout.labels.end(), label);
    if (it == layout.labels.end() || *it != label) {
      return InvalidArgument("class weight for unknown label '" + label + "'");
    }
    if (!(w > 0)) return InvalidArgument("class weight for '" + label + "' must be > 0");
    class_w[static_cast<size_t>(it - layout.labels.begin())] = w;
  }
  std::vector<float> wt;
  for (float y : yt) wt.push_back(static_cast<float>(class_w[static_cast<size_t>(y)]));

  Matrix train, valid;
  RETURN_IF_ERROR(MakeMatrix(xt, yt, &wt, layout, train));
  RETURN_IF_ERROR(MakeMatrix(xv, yv, nullptr, layout, valid));
  Booster booster;
  DMatrixHandle cache[2] = {train.h, valid.h};
  if (XGBoosterCreate(cache, 2, &booster.h) != 0) return XgbError("creating a booster");
  const bool binary = k == 2;
  const int threads =
      o.threads > 0 ? o.threads : static_cast<int>(std::thread::hardware_concurrency());
  std::vector<std::pair<std::string, std::string>> params = {
      {"objective", binary ? "binary:logistic" : "multi:softprob"},
      {"eval_metric", binary ? "logloss" : "mlogloss"},
      {"tree_method", "hist"},
      {"max_depth", std::to_string(o.max_depth)},
      {"eta", std::to_string(o.eta)},
      {"subsample", std::to_string(o.subsample)},
      {"seed", std::to_string(o.seed)},
      {"nthread", std::to_string(threads)},
      {"verbosity", "0"}};
  if (!binary) params.emplace_back("num_class", std::to_string(k));
  for (const auto& [key, value] : params) {
    if (XGBoosterSetParam(booster.h, key.c_str(), value.c_str()) != 0) {
      return XgbError("parameter " + key);
    }
  }
  auto started = std::chrono::steady_clock::now();
  double best = INFINITY;
  DMatrixHandle evals[1] = {valid.h};
  const char* eval_names[1] = {"validation"};
  for (int round = 0; round < o.max_rounds; ++round) {
    if (XGBoosterUpdateOneIter(booster.h, round, train.h) != 0) return XgbError("training");
    const char* out = nullptr;
    if (XGBoosterEvalOneIter(booster.h, round, evals, eval_names, 1, &out) != 0) {
      return XgbError("evaluating");
    }
    double loss = ParseEvalLoss(out);
    result.validation_loss.emplace_back(round + 1, loss);
    result.rounds = round + 1;
    if (loss < best - 1e-12) {
      best = loss;
      result.best_iteration = round;
    } else if (round - result.best_iteration >= o.early_stopping_rounds) {
      break;
    }
  }
  result.train_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  Booster best_model;
  if (XGBoosterSlice(booster.h, 0, result.best_iteration + 1, 1, &best_model.h) != 0) {
    return XgbError("keeping the best iteration");
  }
  {
    // Slicing drops the feature names and types; the server reads them from the file.
    std::vector<const char*> names, types;
    for (const auto& n : layout.names) {
      names.push_back(n.c_str());
      types.push_back(layout.categories.count(n) > 0 ? "c" : "q");
    }
    if (XGBoosterSetStrFeatureInfo(best_model.h, "feature_name", names.data(), names.size()) != 0 ||
        XGBoosterSetStrFeatureInfo(best_model.h, "feature_type", types.data(), types.size()) != 0) {
      return XgbError("naming the features");
    }
  }
  const fs::path& dir = staged.path();
  std::string model_file = (dir / "model.json").string();
  if (XGBoosterSaveModel(best_model.h, model_file.c_str()) != 0) return XgbError("saving");

  ASSIGN_OR_RETURN(auto backend, XGBoostBackend::Load(model_file, layout.labels));
  ASSIGN_OR_RETURN(ScoredTable vs, ScoreTable(*backend, vt, "", o.label_col, &d.validation_rows,
                                              &layout.categories));
  ASSIGN_OR_RETURN(result.validation, Evaluate(vs.labels, vs.probs, vs.truth));
  result.validation_rows = vs.probs.size();
  if (!d.test_rows.empty()) {
    ASSIGN_OR_RETURN(ScoredTable ts, ScoreTable(*backend, d.test_table(), "", o.label_col,
                                                &d.test_rows, &layout.categories));
    result.test_rows = ts.probs.size();
    ASSIGN_OR_RETURN(result.test, Evaluate(ts.labels, ts.probs, ts.truth));
  }

  ModelConfig config;
  config.flavor = "xgboost";
  config.top_k = std::min<int>(o.top_k, static_cast<int>(k));
  config.labels = layout.labels;
  config.categories = layout.categories;
  RETURN_IF_ERROR(WriteVersionFiles(dir.string(), config, result.validation, result.test));
  // The reference the drift monitor compares production windows with.
  ASSIGN_OR_RETURN(
      ReferenceProfile profile,
      BuildTabularProfile(layout.names, layout.categories, xv, vs.labels, vs.probs, vs.truth));
  {
    std::ofstream out(dir / kProfileFile);
    out << ReferenceProfileJson(profile);
    if (!out) return Unavailable("cannot write " + (dir / kProfileFile).string());
  }
  std::error_code ec;
  result.model_bytes = static_cast<uint64_t>(fs::file_size(model_file, ec));
  result.model_path = (staged.final_path() / "model.json").string();
  RETURN_IF_ERROR(staged.Publish());
  return result;
}

}  // namespace closedloop
