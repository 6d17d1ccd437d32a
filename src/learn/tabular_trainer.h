// Trains an XGBoost classifier from a labelled table (CSV, TSV or JSONL) and
// writes a servable version directory: model.json, config.toml (labels, the
// categories of categorical features) and metrics.json.
//
// Features: every column but the label and `ignore_cols`, in file order. A column
// is categorical when named in `categorical_cols` or when any of its non-empty
// cells is not a number; its values become category codes (sorted order) that
// XGBoost splits on natively, and config.toml lists them so the server maps a
// request's string value to the same code. Empty cells are missing values.
// Class weights: none, "balanced" (n / (classes × n_class)) or explicit per label,
// applied as row weights. Early stopping: training stops when the validation
// log-loss has not improved for `early_stopping_rounds`; the model keeps the best
// iteration. Validation/test data and the staged output work as in the text
// trainer. Not thread-safe to run two trainings into the same output_dir.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "learn/evaluation.h"
#include "learn/table_reader.h"

namespace closedloop {

struct TabularTrainOptions {
  std::vector<std::string> inputs;
  std::vector<std::string> validation_inputs;
  std::vector<std::string> test_inputs;
  TableFormat format = TableFormat::kAuto;
  std::string label_col = "label";
  std::vector<std::string> ignore_cols;
  std::vector<std::string> categorical_cols;
  std::string output_dir;
  bool overwrite = false;
  double validation_fraction = 0.2;
  double test_fraction = 0;
  std::string class_weight = "none";            // none | balanced
  std::map<std::string, double> class_weights;  // explicit, by label (overrides)
  int max_rounds = 500;
  int early_stopping_rounds = 20;
  int max_depth = 6;
  double eta = 0.1;
  double subsample = 1.0;
  int threads = 0;  // 0: number of cores
  int seed = 42;
  int top_k = 5;
};

struct TabularTrainResult {
  std::string data_sha256;
  double train_seconds = 0;
  size_t train_rows = 0;
  size_t validation_rows = 0;
  size_t test_rows = 0;
  std::vector<std::string> labels;
  std::vector<std::string> features;
  std::map<std::string, std::vector<std::string>> categories;
  std::vector<std::pair<int, double>> validation_loss;  // (round, log-loss)
  int best_iteration = 0;
  int rounds = 0;  // trained before stopping
  EvaluationReport validation;
  std::optional<EvaluationReport> test;
  std::string model_path;
  uint64_t model_bytes = 0;
};

StatusOr<TabularTrainResult> TrainTabularClassifier(const TabularTrainOptions& options);

}  // namespace closedloop
