#include "learn/text_trainer.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <map>
#include <random>
#include <sstream>
#include <thread>

#include <fasttext/fasttext.h>

#include "core/sha256.h"
#include "learn/calibration.h"
#include "learn/csv_reader.h"
#include "serving/fasttext_backend.h"
#include "serving/model_config.h"
#include "serving/text_normalizer.h"

namespace closedloop {
namespace fs = std::filesystem;

namespace {

// Seeded stratified split: row indices held out for calibration (a share of each
// label that has at least 2 rows; at least one row of every label stays in training).
std::vector<bool> CalibrationRows(const CsvTable& t, size_t label_col, double fraction, int seed) {
  std::vector<bool> held(t.rows.size(), false);
  if (fraction <= 0) return held;
  std::map<std::string, std::vector<size_t>> by_label;
  for (size_t i = 0; i < t.rows.size(); ++i) by_label[t.rows[i][label_col]].push_back(i);
  std::mt19937 rng(static_cast<uint32_t>(seed));
  for (auto& [label, rows] : by_label) {
    if (rows.size() < 2) continue;
    std::shuffle(rows.begin(), rows.end(), rng);
    size_t n =
        std::min(rows.size() - 1,
                 static_cast<size_t>(std::lround(fraction * static_cast<double>(rows.size()))));
    for (size_t i = 0; i < n; ++i) held[rows[i]] = true;
  }
  return held;
}

// Writes "__label__<label> <normalized text>" lines; labels may not contain spaces.
Status WriteFastTextInput(const CsvTable& t, size_t text_col, size_t label_col,
                          const std::vector<bool>& skip, const std::string& path, size_t& rows) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Internal("cannot write '" + path + "'");
  rows = 0;
  for (size_t r = 0; r < t.rows.size(); ++r) {
    if (skip[r]) continue;
    const auto& row = t.rows[r];
    const std::string& label = row[label_col];
    if (label.empty()) continue;
    if (label.find_first_of(" \t\n") != std::string::npos) {
      return InvalidArgument("label '" + label + "' contains whitespace");
    }
    std::string text = NormalizeText(row[text_col]);
    if (text.empty()) continue;
    out << "__label__" << label << ' ' << text << '\n';
    ++rows;
  }
  if (!out) return Internal("failed writing '" + path + "'");
  return OkStatus();
}

}  // namespace

StatusOr<TextTrainResult> TrainTextClassifier(const TextTrainOptions& o) {
  ASSIGN_OR_RETURN(CsvTable train, ReadCsvFile(o.input));
  ASSIGN_OR_RETURN(size_t text_col, train.Column(o.text_col));
  ASSIGN_OR_RETURN(size_t label_col, train.Column(o.label_col));
  std::error_code ec;
  fs::create_directories(o.output_dir, ec);
  if (ec) return Internal("cannot create '" + o.output_dir + "': " + ec.message());

  TextTrainResult result;
  std::string train_txt = o.output_dir + "/.train.txt";
  std::vector<bool> held = CalibrationRows(train, label_col, o.calibration_fraction, o.seed);
  RETURN_IF_ERROR(
      WriteFastTextInput(train, text_col, label_col, held, train_txt, result.train_rows));
  if (result.train_rows == 0) return InvalidArgument("'" + o.input + "' has no labelled rows");

  fasttext::Args args;
  args.input = train_txt;
  args.output = o.output_dir + "/model";
  args.model = fasttext::model_name::sup;
  args.loss = fasttext::loss_name::softmax;
  args.epoch = o.epoch;
  args.lr = o.lr;
  args.dim = o.dim;
  args.wordNgrams = o.word_ngrams;
  args.bucket = o.bucket;
  args.minCount = 1;
  args.minn = 0;
  args.maxn = 0;
  args.seed = o.seed;
  // fastText tracks the training loss only when verbose > 1, and then prints its
  // progress on std::cerr: keep the loss, show the progress only with --verbose.
  args.verbose = 2;
  args.thread = o.threads > 0 ? o.threads : static_cast<int>(std::thread::hardware_concurrency());
  fasttext::FastText ft;
  auto started = std::chrono::steady_clock::now();
  // fastText reports progress in [0, 1]; record the loss as each epoch completes.
  int next_epoch = 1;
  float last_loss = -1;
  auto on_progress = [&](float progress, float loss, double, double, int64_t) {
    last_loss = loss;
    while (next_epoch <= o.epoch && loss >= 0 &&
           progress * static_cast<float>(o.epoch) >= static_cast<float>(next_epoch)) {
      result.epoch_loss.emplace_back(next_epoch++, loss);
    }
  };
  std::streambuf* cerr_buf = std::cerr.rdbuf();
  std::ostringstream muted;
  if (!o.verbose) std::cerr.rdbuf(muted.rdbuf());  // spdlog writes via its own sink
  try {
    ft.train(args, on_progress);
    std::cerr.rdbuf(cerr_buf);
    if (o.verbose) std::cerr << "\n";
  } catch (const std::exception& e) {
    std::cerr.rdbuf(cerr_buf);
    fs::remove(train_txt, ec);
    return Internal(std::string("fastText training failed: ") + e.what());
  }
  if (next_epoch <= o.epoch && last_loss >= 0) result.epoch_loss.emplace_back(o.epoch, last_loss);
  fs::remove(train_txt, ec);
  result.train_seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  {
    std::ifstream data(o.input, std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(data)), std::istreambuf_iterator<char>());
    result.data_sha256 = Sha256Hex(bytes);
  }
  result.model_path = o.output_dir + "/model.bin";
  ft.saveModel(result.model_path);

  ASSIGN_OR_RETURN(auto backend, FastTextBackend::Load(result.model_path));
  result.labels = backend->labels().size();
  std::map<std::string, int> label_index;
  for (size_t i = 0; i < backend->labels().size(); ++i) {
    label_index[backend->labels()[i]] = static_cast<int>(i);
  }
  // Full probability vectors (raw, temperature 1) and true label indices for rows.
  auto score_rows = [&](const CsvTable& table, size_t tc, size_t lc, const std::vector<bool>* only,
                        std::vector<std::vector<float>>& probs, std::vector<int>& truth) {
    for (size_t r = 0; r < table.rows.size(); ++r) {
      if (only != nullptr && !(*only)[r]) continue;
      auto it = label_index.find(table.rows[r][lc]);
      if (it == label_index.end()) continue;
      auto scores = backend->PredictText(table.rows[r][tc], 0);
      if (!scores.ok()) continue;
      std::vector<float> p(backend->labels().size(), 0.f);
      for (const auto& s : *scores) p[static_cast<size_t>(s.index)] = s.p;
      probs.push_back(std::move(p));
      truth.push_back(it->second);
    }
  };
  {
    std::vector<std::vector<float>> probs;
    std::vector<int> truth;
    score_rows(train, text_col, label_col, &held, probs, truth);
    result.calibration_rows = probs.size();
    if (!probs.empty()) result.temperature = FitTemperature(probs, truth);
  }
  ModelConfig config;
  config.flavor = "fasttext";
  config.top_k = o.top_k;
  config.labels = backend->labels();
  config.temperature = result.temperature;
  std::ofstream cfg(o.output_dir + "/config.toml", std::ios::trunc);
  cfg << RenderModelConfig(config);
  if (!cfg) return Internal("cannot write '" + o.output_dir + "/config.toml'");

  if (!o.validation_input.empty()) {
    ASSIGN_OR_RETURN(CsvTable val, ReadCsvFile(o.validation_input));
    ASSIGN_OR_RETURN(size_t vt, val.Column(o.text_col));
    ASSIGN_OR_RETURN(size_t vl, val.Column(o.label_col));
    std::vector<std::vector<float>> probs;
    std::vector<int> truth;
    score_rows(val, vt, vl, nullptr, probs, truth);
    size_t correct = 0;
    std::vector<std::vector<float>> calibrated;
    for (size_t i = 0; i < probs.size(); ++i) {
      auto best = std::max_element(probs[i].begin(), probs[i].end()) - probs[i].begin();
      if (best == truth[i]) ++correct;
      calibrated.push_back(ApplyTemperature(probs[i], result.temperature));
    }
    result.validation_rows = probs.size();
    if (!probs.empty()) {
      result.validation_accuracy = static_cast<double>(correct) / static_cast<double>(probs.size());
      result.ece_before = ExpectedCalibrationError(probs, truth);
      result.ece_after = ExpectedCalibrationError(calibrated, truth);
    }
  }
  return result;
}

}  // namespace closedloop
