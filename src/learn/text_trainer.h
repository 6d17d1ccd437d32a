// Trains a fastText supervised text classifier and writes a servable model
// version directory: <output_dir>/model.bin (or model.ftz when quantized),
// config.toml (labels, calibrated temperature) and metrics.json (the evaluation
// reports). Text is preprocessed with NormalizeText, exactly as the server does.
//
// Data: one or more files of the same columns (CSV, TSV or JSONL). Validation is
// `validation_inputs` when given, else a seeded stratified share of the training
// rows; the softmax temperature is fitted on it (ECE before and after reported),
// and autotune (when asked) searches on it. `test_inputs`, or a stratified
// `test_fraction` of the data taken first, is only ever evaluated.
//
// The version directory is written under a temporary name beside `output_dir` and
// renamed into place at the end, so a failed or interrupted training leaves no
// partial version. Not thread-safe to run two trainings into the same output_dir.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "learn/evaluation.h"
#include "learn/mlp_trainer.h"
#include "learn/progress_bar.h"
#include "learn/table_reader.h"
#include "serving/backend.h"
#include "serving/model_config.h"

namespace closedloop {

struct TextTrainOptions {
  // "fasttext" (default) or "mlp": the neural head over TF-IDF n-grams
  // (learn/mlp_trainer.h), served with flavor "mlp" from model.mlp. With "mlp",
  // `mlp` holds the network's options, word_ngrams/minn/maxn/min_df the
  // featurizer's, and `epoch`, `lr`, `dim`, `bucket`, autotune are fastText's only.
  std::string model = "fasttext";
  MlpTrainOptions mlp;
  int min_df = 2;
  // Continual learning (model "mlp"): start from the mlp model in this version
  // directory instead of from scratch. Its featurizer, network shape, dropout and
  // labels are kept (labels new in `inputs` become new outputs); `replay_size` rows
  // drawn from `replay_inputs` (the old data, same columns) are rehearsed beside
  // the new rows (a tenth of them join validation), and `ewc_lambda` > 0 adds the
  // EWC penalty (learn/ewc.h) with the Fisher computed on the rehearsed rows (on
  // the new rows when there are none).
  std::string fine_tune_from;
  std::vector<std::string> replay_inputs;         // format from each file's extension
  std::string replay_text_col, replay_label_col;  // "": text_col, label_col
  int64_t replay_size = 4000;
  double ewc_lambda =
      1e7;  // the raw empirical Fisher is small: its entries are about 1e-10 to 1e-4
  std::vector<std::string> inputs;             // training files, same columns
  std::vector<std::string> validation_inputs;  // optional
  std::vector<std::string> test_inputs;        // optional
  TableFormat format = TableFormat::kAuto;     // kAuto: from each file's extension
  std::string text_col = "text";
  std::string label_col = "label";
  std::map<std::string, std::string> label_names;  // rename labels, e.g. "1" -> "positive"
  std::string output_dir;
  bool overwrite = false;            // replace an existing output_dir
  double validation_fraction = 0.1;  // when no validation_inputs
  double test_fraction = 0;          // when no test_inputs; 0: no test split
  // Defaults measured on Banking77 (train.csv, 10% held out for validation):
  // 0.886-0.891 top-1 on test.csv in about 12 s on 2 cores, model.bin 81 MB.
  int epoch = 80;
  double lr = 0.8;
  int dim = 100;
  int word_ngrams = 2;
  int minn = 3;  // character n-grams of words (subwords); 0/0 disables them
  int maxn = 5;
  int bucket = 200000;  // hash buckets shared by word and character n-grams
  int threads = 0;      // 0: number of cores
  int seed = 42;
  int top_k = 5;             // written to config.toml
  int autotune_seconds = 0;  // > 0: fastText autotune on the validation data
  bool quantize = false;     // product quantization; serves model.ftz
  bool calibrate = true;     // fit the softmax temperature on the validation data
  // Out-of-scope threshold written to config.toml: the score (serving/oos_score.h)
  // and the share of in-scope validation inquiries it keeps (0: no threshold).
  std::string oos_score = "max_probability";
  double oos_keep = 0.95;
  ProgressMode progress = ProgressMode::kAuto;
  bool verbose = false;  // fastText's own messages on stderr
};

struct TextTrainResult {
  std::string data_sha256;  // of the training files' bytes, in order
  double train_seconds = 0;
  std::vector<std::pair<int, double>> epoch_loss;  // (epoch, training loss at its end)
  // MLP only: per epoch of the first member, validation accuracy; the epoch kept
  // (early stopping) of each member; the feature count.
  std::vector<std::pair<int, double>> epoch_validation_accuracy;
  std::vector<int> best_epoch;
  size_t features = 0;
  std::optional<double> oos_threshold;  // fitted on validation (see TextTrainOptions)
  size_t replay_rows = 0;               // fine-tuning: rehearsed old rows (training and validation)
  size_t added_labels = 0;              // fine-tuning: labels the previous model did not have
  size_t train_rows = 0;
  size_t labels = 0;
  size_t validation_rows = 0;
  size_t test_rows = 0;
  double temperature = 1.0;
  double ece_before = 0;                 // 15-bin ECE on the validation data, raw probabilities
  double ece_after = 0;                  // ... with the fitted temperature
  EvaluationReport validation;           // calibrated
  std::optional<EvaluationReport> test;  // calibrated
  // Hyper-parameters actually used (autotune may change them).
  int epoch = 0, dim = 0, word_ngrams = 0, minn = 0, maxn = 0, bucket = 0;
  double lr = 0;
  // Quantization: sizes in bytes and the accuracy (on test, else validation) of each.
  std::optional<uint64_t> size_before_quantize, size_after_quantize;
  std::optional<double> accuracy_before_quantize, accuracy_after_quantize;
  std::string model_path;  // final location
  uint64_t model_bytes = 0;
};

// Fits the out-of-scope threshold of `o` on the validation texts with the served
// (calibrated) model and records it in `config` and `result`; nothing when
// o.oos_keep is 0. Shared by the fastText and mlp trainers.
Status SetOosThreshold(const Backend& served, const std::vector<std::string>& validation_texts,
                       const TextTrainOptions& o, ModelConfig& config, TextTrainResult& result);

StatusOr<TextTrainResult> TrainTextClassifier(const TextTrainOptions& options);
// The "mlp" model (TrainTextClassifier calls it for options.model == "mlp").
StatusOr<TextTrainResult> TrainMlpTextClassifier(const TextTrainOptions& options);

}  // namespace closedloop
