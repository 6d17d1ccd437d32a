#include "learn/text_trainer.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>

#include <fasttext/autotune.h>
#include <fasttext/fasttext.h>

#include "core/sha256.h"
#include "learn/calibration.h"
#include "learn/profile_builder.h"
#include "learn/staged_dir.h"
#include "learn/training_data.h"
#include "serving/fasttext_backend.h"
#include "serving/model_config.h"
#include "serving/oos_score.h"
#include "serving/text_normalizer.h"

namespace closedloop {
namespace fs = std::filesystem;

namespace {

// fastText 0.9.2's Autotune starts its timer thread before it sets
// continueTraining_: when that thread runs first it finds nothing to stop and
// ends, and the search never does (a test hung that way under load). Train()
// ends the search from outside one second after the duration: the trial in
// progress finishes, then the best parameters are trained as usual. When the
// timer works, it has stopped the search already and this changes nothing.
class BoundedAutotune final : public fasttext::Autotune {
 public:
  using fasttext::Autotune::Autotune;

  void Train(const fasttext::Args& args) {
    std::mutex mu;
    std::condition_variable cv;
    bool done = false;
    std::thread watchdog([&] {
      std::unique_lock lock(mu);
      const std::chrono::duration<double> limit(args.autotuneDuration + 1.0);
      if (!cv.wait_for(lock, limit, [&] { return done; })) continueTraining_ = false;
    });
    const auto finish = [&] {
      {
        std::lock_guard lock(mu);
        done = true;
      }
      cv.notify_all();
      watchdog.join();
    };
    try {
      train(args);
    } catch (...) {
      finish();
      throw;
    }
    finish();
  }
};

// Writes "__label__<label> <normalized text>" lines for `rows`; labels may not
// contain whitespace (fastText splits on it).
Status WriteFastTextInput(const CsvTable& t, size_t text_col, size_t label_col,
                          const std::vector<size_t>& rows, const std::string& path,
                          size_t& written) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Internal("cannot write '" + path + "'");
  written = 0;
  for (size_t r : rows) {
    const auto& row = t.rows[r];
    const std::string& label = row[label_col];
    if (label.empty()) continue;
    if (label.find_first_of(" \t\n\r\v\f") != std::string::npos) {
      return InvalidArgument("label '" + label + "' contains whitespace");
    }
    std::string text = NormalizeText(row[text_col]);
    if (text.empty()) continue;
    out << "__label__" << label << ' ' << text << '\n';
    ++written;
  }
  if (!out) return Internal("failed writing '" + path + "'");
  return OkStatus();
}

// Mutes std::cerr (fastText's own progress) for its lifetime unless `keep`.
class CerrMute {
 public:
  explicit CerrMute(bool keep) : saved_(std::cerr.rdbuf()) {
    if (!keep) std::cerr.rdbuf(sink_.rdbuf());
  }
  ~CerrMute() { std::cerr.rdbuf(saved_); }
  CerrMute(const CerrMute&) = delete;
  CerrMute& operator=(const CerrMute&) = delete;

 private:
  std::streambuf* saved_;
  std::ostringstream sink_;
};

struct Scored {
  std::vector<std::vector<float>> raw;  // temperature 1
  std::vector<int> truth;
  std::vector<std::string> labels;
};

StatusOr<Scored> ScoreRows(const Backend& model, const CsvTable& t, const std::string& text_col,
                           const std::string& label_col, const std::vector<size_t>& rows) {
  ASSIGN_OR_RETURN(ScoredTable s, ScoreTable(model, t, text_col, label_col, &rows));
  return Scored{std::move(s.probs), std::move(s.truth), std::move(s.labels)};
}

StatusOr<EvaluationReport> EvaluateCalibrated(const Scored& s, double temperature) {
  std::vector<std::vector<float>> calibrated;
  calibrated.reserve(s.raw.size());
  for (const auto& p : s.raw) calibrated.push_back(ApplyTemperature(p, temperature));
  return Evaluate(s.labels, calibrated, s.truth);
}

uint64_t FileSize(const std::string& path) {
  std::error_code ec;
  auto n = fs::file_size(path, ec);
  return ec ? 0 : static_cast<uint64_t>(n);
}

}  // namespace

Status SetOosThreshold(const Backend& served, const std::vector<std::string>& validation_texts,
                       const TextTrainOptions& o, ModelConfig& config, TextTrainResult& result) {
  if (!(o.oos_keep > 0)) return OkStatus();
  ASSIGN_OR_RETURN(OosScoreKind kind, ParseOosScore(o.oos_score));
  ASSIGN_OR_RETURN(double t, FitOosThreshold(served, validation_texts, kind, config.temperature,
                                             std::min(o.oos_keep, 1.0)));
  config.oos_score = o.oos_score;
  config.oos_threshold = t;
  result.oos_threshold = t;
  return OkStatus();
}

StatusOr<TextTrainResult> TrainTextClassifier(const TextTrainOptions& o) {
  if (o.model == "mlp") return TrainMlpTextClassifier(o);
  if (!o.fine_tune_from.empty()) {
    return InvalidArgument("fine-tuning (--fine-tune-from) needs --model mlp");
  }
  if (o.model != "fasttext") return InvalidArgument("unknown text model '" + o.model + "'");
  ASSIGN_OR_RETURN(StagedDir staged, StagedDir::Create(o.output_dir, o.overwrite));
  DataSources sources{
      o.inputs,     o.validation_inputs, o.test_inputs,         o.format,        o.label_col,
      {o.text_col}, o.label_names,       o.validation_fraction, o.test_fraction, o.seed};
  ASSIGN_OR_RETURN(TrainingData d, LoadTrainingData(sources));
  const CsvTable& data = d.data;
  const size_t text_col = *data.Column(o.text_col);
  const size_t label_col = *data.Column(o.label_col);
  const CsvTable* validation_src = &d.validation_table();
  const CsvTable* test_src = &d.test_table();
  const std::vector<size_t>& validation_rows = d.validation_rows;
  const std::vector<size_t>& test_rows = d.test_rows;
  const fs::path& staging = staged.path();
  std::error_code ec;

  TextTrainResult result;
  const std::string train_txt = (staging / "train.txt").string();
  const std::string valid_txt = (staging / "validation.txt").string();
  RETURN_IF_ERROR(
      WriteFastTextInput(data, text_col, label_col, d.train_rows, train_txt, result.train_rows));
  if (result.train_rows == 0) return InvalidArgument("'" + o.inputs[0] + "' has no labelled rows");

  fasttext::Args args;
  args.input = train_txt;
  args.output = (staging / "model").string();
  args.model = fasttext::model_name::sup;
  args.loss = fasttext::loss_name::softmax;
  args.epoch = o.epoch;
  args.lr = o.lr;
  args.dim = o.dim;
  args.wordNgrams = o.word_ngrams;
  args.bucket = o.bucket;
  args.minCount = 1;
  args.minn = o.minn;
  args.maxn = o.maxn;
  args.seed = o.seed;
  // fastText tracks the training loss only when verbose > 1 (and then prints its
  // own progress on std::cerr, muted unless --verbose).
  args.verbose = 2;
  args.thread = o.threads > 0 ? o.threads : static_cast<int>(std::thread::hardware_concurrency());
  auto ft = std::make_shared<fasttext::FastText>();
  const bool show_progress = ProgressEnabled(o.progress);
  auto started = std::chrono::steady_clock::now();
  std::ostream real_stderr(std::cerr.rdbuf());  // the bar's stream, never muted
  try {
    CerrMute mute(o.verbose);
    if (o.autotune_seconds > 0) {
      const CsvTable& vt = *validation_src;
      size_t vrows = 0;
      RETURN_IF_ERROR(WriteFastTextInput(vt, *vt.Column(o.text_col), *vt.Column(o.label_col),
                                         validation_rows, valid_txt, vrows));
      args.autotuneValidationFile = valid_txt;
      args.autotuneDuration = o.autotune_seconds;
      args.autotuneMetric = "f1";
      args.autotunePredictions = 1;
      args.verbose = o.verbose ? 2 : 0;
      BoundedAutotune tuner(ft);
      tuner.Train(args);  // ends with the best parameters trained on the training data
    } else {
      ProgressBar bar(real_stderr, "training");
      int next_epoch = 1;
      float last_loss = -1;
      auto on_progress = [&](float progress, float loss, double, double, int64_t eta) {
        last_loss = loss;
        while (next_epoch <= o.epoch && loss >= 0 &&
               progress * static_cast<float>(o.epoch) >= static_cast<float>(next_epoch)) {
          result.epoch_loss.emplace_back(next_epoch++, loss);
        }
        if (show_progress) {
          std::ostringstream detail;
          detail << "epoch " << std::min(o.epoch, next_epoch) << "/" << o.epoch;
          if (loss >= 0) detail << " loss " << loss;
          if (eta < 86400 && progress > 0) detail << " eta " << eta << "s";
          bar.Update(progress, detail.str());
        }
      };
      ft->train(args, on_progress);
      if (show_progress) {
        bar.Update(1.0, "done");
        bar.Finish();
      }
      if (next_epoch <= o.epoch && last_loss >= 0)
        result.epoch_loss.emplace_back(o.epoch, last_loss);
    }
  } catch (const std::exception& e) {
    return Internal(std::string("fastText training failed: ") + e.what());
  }
  result.train_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  const fasttext::Args& used = ft->getArgs();
  result.epoch = used.epoch, result.lr = used.lr, result.dim = used.dim;
  result.word_ngrams = used.wordNgrams, result.minn = used.minn, result.maxn = used.maxn;
  result.bucket = used.bucket;
  result.data_sha256 = d.data_sha256;
  std::string model_file = (staging / "model.bin").string();
  ft->saveModel(model_file);
  fs::remove(train_txt, ec);
  fs::remove(valid_txt, ec);

  ASSIGN_OR_RETURN(auto backend, FastTextBackend::Load(model_file));
  result.labels = backend->labels().size();
  ASSIGN_OR_RETURN(Scored val,
                   ScoreRows(*backend, *validation_src, o.text_col, o.label_col, validation_rows));
  if (val.raw.empty()) return InvalidArgument("no validation rows with text and a label");
  result.validation_rows = val.raw.size();
  if (o.calibrate) result.temperature = FitTemperature(val.raw, val.truth);
  result.ece_before = ExpectedCalibrationError(val.raw, val.truth);
  ASSIGN_OR_RETURN(result.validation, EvaluateCalibrated(val, result.temperature));
  result.ece_after = result.validation.ece;
  std::optional<Scored> test;
  if (!test_rows.empty()) {
    ASSIGN_OR_RETURN(test, ScoreRows(*backend, *test_src, o.text_col, o.label_col, test_rows));
    result.test_rows = test->raw.size();
    if (!test->raw.empty()) {
      ASSIGN_OR_RETURN(result.test, EvaluateCalibrated(*test, result.temperature));
    }
  }

  if (o.quantize) {
    result.size_before_quantize = FileSize(model_file);
    result.accuracy_before_quantize =
        result.test ? result.test->accuracy : result.validation.accuracy;
    fasttext::Args q = used;
    q.input = train_txt;
    q.qnorm = true;
    q.retrain = false;
    q.cutoff = 0;
    q.dsub = 2;
    try {
      CerrMute mute(o.verbose);
      ft->quantize(q);
    } catch (const std::exception& e) {
      return Internal(std::string("fastText quantization failed: ") + e.what());
    }
    fs::remove(model_file, ec);
    model_file = (staging / "model.ftz").string();
    ft->saveModel(model_file);
    result.size_after_quantize = FileSize(model_file);
    ASSIGN_OR_RETURN(backend, FastTextBackend::Load(model_file));
    const CsvTable& qt = test ? *test_src : *validation_src;
    const std::vector<size_t>& qrows = test ? test_rows : validation_rows;
    ASSIGN_OR_RETURN(Scored qs, ScoreRows(*backend, qt, o.text_col, o.label_col, qrows));
    ASSIGN_OR_RETURN(EvaluationReport qr, EvaluateCalibrated(qs, result.temperature));
    result.accuracy_after_quantize = qr.accuracy;
    if (test) {
      result.test = qr;
    } else {
      result.validation = qr;
    }
  }

  ModelConfig config;
  config.flavor = "fasttext";
  config.top_k = o.top_k;
  config.labels = backend->labels();
  config.temperature = result.temperature;
  ASSIGN_OR_RETURN(auto served, FastTextBackend::Load(model_file, result.temperature));
  std::vector<std::string> texts, truth;
  {
    const size_t tc = *validation_src->Column(o.text_col),
                 lc = *validation_src->Column(o.label_col);
    for (size_t r : validation_rows) {
      texts.push_back(validation_src->rows[r][tc]);
      truth.push_back(validation_src->rows[r][lc]);
    }
  }
  RETURN_IF_ERROR(SetOosThreshold(*served, texts, o, config, result));
  RETURN_IF_ERROR(WriteVersionFiles(staging.string(), config, result.validation, result.test));
  {  // The reference the drift monitor compares production windows with.
    auto profile = BuildTextProfile(*served, texts, truth);
    if (profile.ok()) {
      std::ofstream out(staging / kProfileFile);
      out << ReferenceProfileJson(*profile);
    }
  }
  result.model_bytes = FileSize(model_file);
  result.model_path = (staged.final_path() / fs::path(model_file).filename()).string();
  RETURN_IF_ERROR(staged.Publish());
  return result;
}

}  // namespace closedloop
