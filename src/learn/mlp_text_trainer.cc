// TrainMlpTextClassifier: the "mlp" text model (declared in text_trainer.h).
#include <algorithm>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>

#include "learn/calibration.h"
#include "learn/ewc.h"
#include "learn/profile_builder.h"
#include "learn/staged_dir.h"
#include "learn/text_trainer.h"
#include "learn/training_data.h"
#include "monitor/reference_profile.h"
#include "serving/mlp_backend.h"
#include "serving/model_config.h"

namespace closedloop {
namespace fs = std::filesystem;

namespace {

struct Split {
  std::vector<std::string_view> texts;
  std::vector<int> truth;
};

// The rows of `t` with a label; a labelled row with an empty text is an error
// naming it (row numbers count data rows from 1, after the header).
StatusOr<Split> Collect(const CsvTable& t, const std::string& text_col,
                        const std::string& label_col, const std::vector<size_t>& rows,
                        const std::map<std::string, int>& label_index, bool unknown_is_error,
                        const char* split) {
  ASSIGN_OR_RETURN(size_t tc, t.Column(text_col));
  ASSIGN_OR_RETURN(size_t lc, t.Column(label_col));
  Split s;
  for (size_t r : rows) {
    const std::string& label = t.rows[r][lc];
    if (label.empty()) continue;
    const std::string& text = t.rows[r][tc];
    if (text.find_first_not_of(" \t\r\n") == std::string::npos) {
      return InvalidArgument(std::string(split) + " row " + std::to_string(r + 1) + ": column '" +
                             text_col + "' is empty");
    }
    auto it = label_index.find(label);
    if (it == label_index.end()) {
      if (unknown_is_error) {
        return InvalidArgument(std::string(split) + " row " + std::to_string(r + 1) + ": label '" +
                               label + "' does not occur in the training rows");
      }
      continue;
    }
    s.texts.push_back(text);
    s.truth.push_back(it->second);
  }
  return s;
}

std::vector<SparseVector> FeaturizeAll(const TextFeaturizer& f, const Split& s) {
  std::vector<SparseVector> out;
  out.reserve(s.texts.size());
  for (std::string_view t : s.texts) out.push_back(f.Featurize(t));
  return out;
}

StatusOr<std::vector<std::vector<float>>> Score(const MlpBackend& b, const Split& s) {
  std::vector<std::vector<float>> out;
  out.reserve(s.texts.size());
  for (std::string_view t : s.texts) {
    auto p = b.Probabilities(t);
    // A text with no known n-gram still gets the model's prior (biases only).
    if (!p.ok()) p = std::vector<float>(b.labels().size(), 1.0f / b.labels().size());
    out.push_back(std::move(*p));
  }
  return out;
}

// The model fine-tuning starts from, with its labels.
struct Previous {
  std::unique_ptr<MlpModel> model;
  std::vector<std::string> labels;
};

StatusOr<Previous> LoadPrevious(const std::string& dir) {
  ASSIGN_OR_RETURN(ModelConfig config, LoadModelConfig(dir + "/config.toml"));
  if (config.flavor != "mlp") {
    return InvalidArgument("fine-tuning starts from an mlp model; '" + dir + "' is flavor '" +
                           config.flavor + "'");
  }
  Previous p;
  ASSIGN_OR_RETURN(p.model, MlpModel::Load(dir + "/model.mlp"));
  p.labels = config.labels;
  if (p.labels.size() != static_cast<size_t>(p.model->labels())) {
    return InvalidArgument("'" + dir + "/config.toml' does not list the model's labels");
  }
  return p;
}

// `size` rows of the replay table with a text and one of the previous labels, in a
// seeded random order; a tenth go to `val`, the rest to `train`.
Status AddReplay(const CsvTable& t, const TextTrainOptions& o,
                 const std::map<std::string, int>& label_index, size_t previous_labels,
                 Split& train, Split& val, size_t& added, double& weight) {
  ASSIGN_OR_RETURN(size_t tc, t.Column(o.replay_text_col.empty() ? o.text_col : o.replay_text_col));
  ASSIGN_OR_RETURN(size_t lc,
                   t.Column(o.replay_label_col.empty() ? o.label_col : o.replay_label_col));
  std::vector<std::pair<size_t, int>> rows;
  for (size_t r = 0; r < t.rows.size(); ++r) {
    auto it = label_index.find(t.rows[r][lc]);
    if (it == label_index.end() || static_cast<size_t>(it->second) >= previous_labels) continue;
    if (t.rows[r][tc].find_first_not_of(" \t\r\n") == std::string::npos) continue;
    rows.emplace_back(r, it->second);
  }
  std::mt19937 rng(static_cast<uint32_t>(o.seed) ^ 0x5eedu);
  std::shuffle(rows.begin(), rows.end(), rng);
  const size_t pool = rows.size();
  rows.resize(std::min(rows.size(), static_cast<size_t>(std::max<int64_t>(0, o.replay_size))));
  for (size_t i = 0; i < rows.size(); ++i) {
    Split& s = i % 10 == 9 ? val : train;
    s.texts.push_back(t.rows[rows[i].first][tc]);
    s.truth.push_back(rows[i].second);
  }
  added = rows.size();
  weight = added == 0 ? 1.0 : static_cast<double>(pool) / static_cast<double>(added);
  return OkStatus();
}

uint64_t FileSize(const fs::path& p) {
  std::error_code ec;
  auto n = fs::file_size(p, ec);
  return ec ? 0 : static_cast<uint64_t>(n);
}

}  // namespace

StatusOr<TextTrainResult> TrainMlpTextClassifier(const TextTrainOptions& o) {
  ASSIGN_OR_RETURN(StagedDir staged, StagedDir::Create(o.output_dir, o.overwrite));
  DataSources sources{
      o.inputs,     o.validation_inputs, o.test_inputs,         o.format,        o.label_col,
      {o.text_col}, o.label_names,       o.validation_fraction, o.test_fraction, o.seed};
  ASSIGN_OR_RETURN(TrainingData d, LoadTrainingData(sources));
  const auto started = std::chrono::steady_clock::now();
  TextTrainResult result;
  result.data_sha256 = d.data_sha256;

  std::optional<Previous> previous;
  if (!o.fine_tune_from.empty()) {
    ASSIGN_OR_RETURN(previous, LoadPrevious(o.fine_tune_from));
  }
  std::set<std::string> label_set;
  {
    const size_t lc = *d.data.Column(o.label_col);
    for (size_t r : d.train_rows) {
      if (!d.data.rows[r][lc].empty()) label_set.insert(d.data.rows[r][lc]);
    }
  }
  std::vector<std::string> labels;
  if (previous) {  // the old outputs keep their places; new labels follow, sorted
    labels = previous->labels;
    for (const auto& l : label_set) {
      if (std::find(labels.begin(), labels.end(), l) == labels.end()) labels.push_back(l);
    }
    result.added_labels = labels.size() - previous->labels.size();
  } else {
    if (label_set.size() < 2) {
      return InvalidArgument("column '" + o.label_col + "' has " +
                             std::to_string(label_set.size()) +
                             " label(s) in the training rows; a classifier needs at least 2");
    }
    labels.assign(label_set.begin(), label_set.end());
  }
  std::map<std::string, int> label_index;
  for (size_t i = 0; i < labels.size(); ++i) label_index[labels[i]] = static_cast<int>(i);

  ASSIGN_OR_RETURN(Split train, Collect(d.data, o.text_col, o.label_col, d.train_rows, label_index,
                                        true, "training"));
  ASSIGN_OR_RETURN(Split val, Collect(d.validation_table(), o.text_col, o.label_col,
                                      d.validation_rows, label_index, false, "validation"));
  std::optional<Split> test;
  if (!d.test_rows.empty()) {
    ASSIGN_OR_RETURN(test, Collect(d.test_table(), o.text_col, o.label_col, d.test_rows,
                                   label_index, false, "test"));
  }
  result.train_rows = train.texts.size();
  result.validation_rows = val.texts.size();
  result.labels = labels.size();

  std::optional<CsvTable> replay_table;  // owns the replayed texts
  double replay_weight = 1;              // each rehearsed row stands for this many old rows
  if (previous && !o.replay_inputs.empty() && o.replay_size > 0) {
    ASSIGN_OR_RETURN(replay_table, ReadTables(o.replay_inputs, TableFormat::kAuto));
    RETURN_IF_ERROR(AddReplay(*replay_table, o, label_index, previous->labels.size(), train, val,
                              result.replay_rows, replay_weight));
  }
  if (val.texts.empty()) return InvalidArgument("no validation rows with text and a known label");
  const size_t new_rows = train.texts.size() - (result.replay_rows - result.replay_rows / 10);

  FeaturizerOptions fo{o.word_ngrams >= 2 ? 2 : 1, o.minn, o.maxn, o.min_df};
  StatusOr<TextFeaturizer> fitted = previous
                                        ? StatusOr<TextFeaturizer>(previous->model->featurizer())
                                        : TextFeaturizer::Fit(train.texts, fo);
  if (!fitted.ok()) return fitted.status();
  TextFeaturizer featurizer = std::move(*fitted);
  fo = featurizer.options();
  result.features = featurizer.dimension();
  const auto x = FeaturizeAll(featurizer, train);
  const auto vx = FeaturizeAll(featurizer, val);
  MlpTrainOptions mo = o.mlp;
  mo.seed = static_cast<uint32_t>(o.seed);
  if (o.threads > 0) mo.threads = o.threads;
  std::optional<MlpWarmStart> warm;
  if (previous) {
    warm.emplace();
    mo.dropout = previous->model->dropout();
    mo.hidden = previous->model->hidden();
    for (const MlpMember& m : previous->model->members()) warm->init.push_back(Dequantized(m));
    mo.ensemble = static_cast<int>(warm->init.size());
    if (o.ewc_lambda > 0) {
      // The Fisher on the old rows rehearsed (after the new ones in `x`), else on
      // the new rows, labelled by the previous model where their label is new.
      const size_t from = result.replay_rows > 0 ? new_rows : 0;
      const MlpModel view(featurizer, {});
      std::vector<float> h, z;
      for (const MlpMember& m : warm->init) {
        std::vector<SparseVector> fx(x.begin() + static_cast<std::ptrdiff_t>(from), x.end());
        std::vector<int> fy(train.truth.begin() + static_cast<std::ptrdiff_t>(from),
                            train.truth.end());
        for (size_t i = 0; i < fy.size(); ++i) {
          if (fy[i] < m.labels) continue;
          view.Hidden(m, fx[i], h);
          view.Logits(m, h, z);
          fy[i] = static_cast<int>(std::max_element(z.begin(), z.end()) - z.begin());
        }
        warm->fisher.push_back(DiagonalFisher(view, m, fx, fy));
      }
      warm->ewc_lambda = static_cast<float>(o.ewc_lambda);
    }
  }
  // Rehearsed rows weigh as the old data they sample, so the old intents keep
  // their share of the loss against the new rows.
  std::vector<float> weights(x.size(), 1.0f);
  std::fill(weights.begin() + static_cast<std::ptrdiff_t>(new_rows), weights.end(),
            static_cast<float>(replay_weight));
  MlpTrainReport report;
  ASSIGN_OR_RETURN(
      std::vector<MlpMember> members,
      TrainMlpMembers(featurizer, x, train.truth, &weights, vx, val.truth,
                      static_cast<int>(labels.size()), mo, &report, warm ? &*warm : nullptr));
  for (const MlpEpoch& e : report.members.front()) {
    result.epoch_loss.emplace_back(e.epoch, e.train_loss);
    result.epoch_validation_accuracy.emplace_back(e.epoch, e.validation_accuracy);
  }
  result.best_epoch = report.best_epoch;
  result.epoch = report.best_epoch.front();
  result.word_ngrams = fo.word_ngrams, result.minn = fo.minn, result.maxn = fo.maxn;
  result.dim = mo.hidden;
  result.lr = mo.learning_rate;
  result.train_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();

  MlpModel model(std::move(featurizer), std::move(members), mo.dropout);
  const fs::path model_file = staged.path() / "model.mlp";
  RETURN_IF_ERROR(model.Save(model_file.string()));
  ASSIGN_OR_RETURN(auto backend, MlpBackend::Load(model_file.string(), labels));
  ASSIGN_OR_RETURN(auto val_raw, Score(*backend, val));
  if (o.calibrate) result.temperature = FitTemperature(val_raw, val.truth);
  result.ece_before = ExpectedCalibrationError(val_raw, val.truth);

  if (o.quantize) {
    const fs::path quant_file = staged.path() / "model.int8.mlp";
    RETURN_IF_ERROR(model.Quantized()->Save(quant_file.string()));  // INT8; renamed below
    result.size_before_quantize = FileSize(model_file);
    result.size_after_quantize = FileSize(quant_file);
    ASSIGN_OR_RETURN(auto fb, MlpBackend::Load(model_file.string(), labels, result.temperature));
    ASSIGN_OR_RETURN(auto qb, MlpBackend::Load(quant_file.string(), labels, result.temperature));
    const Split& s = test ? *test : val;
    ASSIGN_OR_RETURN(auto before, Score(*fb, s));
    ASSIGN_OR_RETURN(auto after, Score(*qb, s));
    ASSIGN_OR_RETURN(EvaluationReport rb, Evaluate(labels, before, s.truth));
    ASSIGN_OR_RETURN(EvaluationReport ra, Evaluate(labels, after, s.truth));
    result.accuracy_before_quantize = rb.accuracy;
    result.accuracy_after_quantize = ra.accuracy;
    std::error_code ec;
    fs::rename(quant_file, model_file, ec);
    if (ec) return Internal("cannot rename the quantized model: " + ec.message());
  }
  ASSIGN_OR_RETURN(backend, MlpBackend::Load(model_file.string(), labels, result.temperature));
  ASSIGN_OR_RETURN(auto val_cal, Score(*backend, val));
  ASSIGN_OR_RETURN(result.validation, Evaluate(labels, val_cal, val.truth));
  result.ece_after = result.validation.ece;
  if (test && !test->texts.empty()) {
    result.test_rows = test->texts.size();
    ASSIGN_OR_RETURN(auto test_cal, Score(*backend, *test));
    ASSIGN_OR_RETURN(result.test, Evaluate(labels, test_cal, test->truth));
  }

  ModelConfig config;
  config.flavor = "mlp";
  config.top_k = o.top_k;
  config.labels = labels;
  config.temperature = result.temperature;
  {
    const std::vector<std::string> texts(val.texts.begin(), val.texts.end());
    RETURN_IF_ERROR(SetOosThreshold(*backend, texts, o, config, result));
  }
  RETURN_IF_ERROR(
      WriteVersionFiles(staged.path().string(), config, result.validation, result.test));
  {  // The reference the drift monitor compares production windows with.
    std::vector<std::string> texts, truth;
    for (size_t i = 0; i < val.texts.size(); ++i) {
      texts.emplace_back(val.texts[i]);
      truth.push_back(labels[static_cast<size_t>(val.truth[i])]);
    }
    auto profile = BuildTextProfile(*backend, texts, truth);
    if (profile.ok()) {
      std::ofstream out(staged.path() / kProfileFile);
      out << ReferenceProfileJson(*profile);
    }
  }
  result.model_bytes = FileSize(model_file);
  result.model_path = (staged.final_path() / "model.mlp").string();
  RETURN_IF_ERROR(staged.Publish());
  return result;
}

}  // namespace closedloop
