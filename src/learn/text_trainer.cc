#include "learn/text_trainer.h"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <sstream>
#include <thread>

#include <fasttext/fasttext.h>

#include "core/sha256.h"
#include "learn/csv_reader.h"
#include "serving/fasttext_backend.h"
#include "serving/model_config.h"
#include "serving/text_normalizer.h"

namespace closedloop {
namespace fs = std::filesystem;

namespace {

// Writes "__label__<label> <normalized text>" lines; labels may not contain spaces.
Status WriteFastTextInput(const CsvTable& t, size_t text_col, size_t label_col,
                          const std::string& path, size_t& rows) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Internal("cannot write '" + path + "'");
  rows = 0;
  for (const auto& row : t.rows) {
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
  RETURN_IF_ERROR(WriteFastTextInput(train, text_col, label_col, train_txt, result.train_rows));
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
  ModelConfig config;
  config.flavor = "fasttext";
  config.top_k = o.top_k;
  config.labels = backend->labels();
  std::ofstream cfg(o.output_dir + "/config.toml", std::ios::trunc);
  cfg << RenderModelConfig(config);
  if (!cfg) return Internal("cannot write '" + o.output_dir + "/config.toml'");

  if (!o.validation_input.empty()) {
    ASSIGN_OR_RETURN(CsvTable val, ReadCsvFile(o.validation_input));
    ASSIGN_OR_RETURN(size_t vt, val.Column(o.text_col));
    ASSIGN_OR_RETURN(size_t vl, val.Column(o.label_col));
    size_t correct = 0;
    for (const auto& row : val.rows) {
      auto scores = backend->PredictText(row[vt], 1);
      if (!scores.ok()) continue;
      ++result.validation_rows;
      if (backend->labels()[scores->front().index] == row[vl]) ++correct;
    }
    if (result.validation_rows > 0) {
      result.validation_accuracy =
          static_cast<double>(correct) / static_cast<double>(result.validation_rows);
    }
  }
  return result;
}

}  // namespace closedloop
