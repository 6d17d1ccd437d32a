// Classification metrics over probability vectors, the same code for
// `closedloop eval` and for the metrics every training reports:
// accuracy, macro/weighted F1, per-class precision/recall/F1/support, the
// confusion matrix, log-loss, ROC-AUC (binary; one-vs-rest macro average for
// more classes, over the classes that have both positives and negatives),
// expected calibration error and the reliability-diagram bins it is made of.
// Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "learn/csv_reader.h"
#include "learn/table_reader.h"
#include "serving/backend.h"
#include "serving/model_config.h"

namespace closedloop {

struct ClassMetrics {
  std::string label;
  double precision = 0;  // 0 when the class is never predicted
  double recall = 0;     // 0 when the class has no rows
  double f1 = 0;
  size_t support = 0;  // rows whose true label is this class
};

// Equal-width bin [lower, upper) of top-label confidence.
struct ReliabilityBin {
  double lower = 0;
  double upper = 0;
  size_t count = 0;
  double mean_confidence = 0;  // 0 for an empty bin
  double accuracy = 0;         // share of the bin's rows whose top label is right
};

struct EvaluationReport {
  size_t rows = 0;
  std::vector<std::string> labels;  // class order of per_class and confusion
  double accuracy = 0;
  double macro_f1 = 0;
  double weighted_f1 = 0;
  double log_loss = 0;  // natural log, probabilities floored at 1e-15
  std::optional<double> roc_auc;
  double ece = 0;
  std::vector<ClassMetrics> per_class;
  std::vector<std::vector<size_t>> confusion;  // [true class][predicted class]
  std::vector<ReliabilityBin> reliability;
};

// `probs[i]` has one probability per entry of `labels`; `truth[i]` indexes
// `labels`. InvalidArgument when there are no rows or the sizes disagree.
StatusOr<EvaluationReport> Evaluate(const std::vector<std::string>& labels,
                                    const std::vector<std::vector<float>>& probs,
                                    const std::vector<int>& truth, int bins = 15);

// A labelled table scored by a model: full probability vectors in the order of
// `labels` (the model's labels, then any label seen only in the data, which the
// model gives probability 0).
struct ScoredTable {
  std::vector<std::string> labels;
  std::vector<std::vector<float>> probs;
  std::vector<int> truth;
  size_t skipped_rows = 0;  // empty label or empty text
};

// Text models read `text_col`; tabular models read their feature_names() columns
// (a missing one is NotFound naming it; empty cells are missing values; other
// non-numbers are InvalidArgument naming row and column, except in the
// `categories` features, whose values become codes). `rows`, when given,
// selects the table rows to score.
using CategoryMap = std::map<std::string, std::vector<std::string>>;
StatusOr<ScoredTable> ScoreTable(const Backend& model, const CsvTable& table,
                                 const std::string& text_col, const std::string& label_col,
                                 const std::vector<size_t>* rows = nullptr,
                                 const CategoryMap* categories = nullptr);

// `closedloop eval`: loads the model version directory `model_dir` (or the
// directory of a model file) as the server would (calibrated temperature, labels)
// and evaluates it on a labelled file. NotFound when the model or file does not exist.
StatusOr<EvaluationReport> EvaluateModelOnFile(const std::string& model_dir,
                                               const std::string& data_file, TableFormat format,
                                               const std::string& text_col,
                                               const std::string& label_col);

// The scoring EvaluateModelOnFile does, for other reports (out-of-scope): the
// table scored and how many leading labels are the model's own.
struct ScoredModelFile {
  ScoredTable scored;
  size_t model_labels = 0;
};
StatusOr<ScoredModelFile> ScoreModelOnFile(const std::string& model_dir,
                                           const std::string& data_file, TableFormat format,
                                           const std::string& text_col,
                                           const std::string& label_col);

// Writes a trained version's config.toml and metrics.json
// ({"validation": report, "test": report}) into `dir`.
Status WriteVersionFiles(const std::string& dir, const ModelConfig& config,
                         const EvaluationReport& validation,
                         const std::optional<EvaluationReport>& test);

// {"rows", "accuracy", "macro_f1", "weighted_f1", "log_loss", "roc_auc", "ece",
//  "per_class": [{label, precision, recall, f1, support}], "labels": [...],
//  "confusion_matrix": [[...]], "reliability": [{lower, upper, count,
//  mean_confidence, accuracy}]}
std::string RenderEvaluationJson(const EvaluationReport& report);

}  // namespace closedloop
