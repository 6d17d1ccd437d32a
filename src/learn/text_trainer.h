// Trains a fastText supervised text classifier from a CSV file and writes a
// servable model version directory: <output_dir>/model.bin + config.toml.
// Text is preprocessed with NormalizeText, exactly as the server does.
// Not thread-safe to run two trainings into the same output_dir.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"

namespace closedloop {

struct TextTrainOptions {
  std::string input;             // CSV with a header
  std::string validation_input;  // optional CSV with the same columns
  std::string text_col = "text";
  std::string label_col = "label";
  std::string output_dir;
  int epoch = 25;
  double lr = 0.5;
  int dim = 64;
  int word_ngrams = 2;
  int bucket = 200000;  // hash buckets for word n-grams; bounds the model size
  int threads = 0;      // 0: number of cores
  int seed = 42;
  int top_k = 5;  // written to config.toml
  // Share of each label's rows (labels with >= 2 rows) held out, seeded, to fit the
  // softmax temperature; 0 disables calibration.
  double calibration_fraction = 0.1;
  bool verbose = false;
};

struct TextTrainResult {
  std::string data_sha256;  // of the training file's bytes
  double train_seconds = 0;
  std::vector<std::pair<int, double>> epoch_loss;  // (epoch, training loss at its end)
  size_t train_rows = 0;
  size_t labels = 0;
  size_t validation_rows = 0;
  std::optional<double> validation_accuracy;  // top-1, on validation_input
  size_t calibration_rows = 0;
  double temperature = 1.0;
  std::optional<double> ece_before;  // 15-bin ECE on validation_input, raw probabilities
  std::optional<double> ece_after;   // ... with the fitted temperature
  std::string model_path;
};

StatusOr<TextTrainResult> TrainTextClassifier(const TextTrainOptions& options);

}  // namespace closedloop
