// The state of a model's labeling, for `GET /v1/labeling/report` and
// `closedloop labeling report`: queue depth by status and strategy, each
// annotator's work, gold accuracy, Dawid–Skene accuracy and mean Cohen's κ with the
// others, pairwise Cohen's κ, Fleiss' κ overall and per label, the distribution of
// the settled labels ([labeling] aggregation), how often majority and Dawid–Skene
// disagree, and the model's accuracy on the people's labels — on all finished
// tasks (biased toward hard inputs) and, unbiased, on the random share weighted by
// 1 / propensity (Horvitz–Thompson).
// Reads through the given connection; pure otherwise.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/status.h"
#include "store/sqlite_db.h"

namespace closedloop {

struct AnnotatorReport {
  std::string annotator;
  int64_t answers = 0;  // other than skip
  int64_t skips = 0;
  int64_t gold_answered = 0;
  std::optional<double> gold_accuracy;
  std::optional<double> ds_accuracy;  // Dawid–Skene's estimate
  std::optional<double>
      mean_kappa;  // Cohen's κ with each other annotator, weighted by shared items
  std::optional<double> agreement;  // share of answers equal to the settled label
};

struct PairReport {
  std::string a, b;
  int64_t items = 0;
  double kappa = 0;
};

struct LabelingReport {
  std::string model, aggregation;
  int64_t open = 0, done = 0, hard_open = 0, gold = 0;
  std::map<std::string, int64_t> by_strategy;  // tasks selected from traffic, by strategy
  int64_t selected_last_hour = 0, selected_last_day = 0;
  int64_t budget_per_hour = 0, budget_per_day = 0;
  std::vector<AnnotatorReport> annotators;
  std::vector<PairReport> pairs;
  std::optional<double> fleiss_kappa;
  int64_t fleiss_items = 0;
  std::map<std::string, double> fleiss_per_label;
  std::map<std::string, int64_t> labels;  // settled labels of finished tasks
  int64_t majority_vs_ds_disagreements = 0;
  std::optional<double> model_agreement;  // model's label == settled label, all finished tasks
  std::optional<double> model_accuracy_unbiased;  // on the random share, 1 / propensity weighted
  int64_t random_items = 0;
};

StatusOr<LabelingReport> BuildLabelingReport(SqliteDb& db, const std::string& model,
                                             const LabelingConfig& config, int64_t now_ms);
std::string LabelingReportJson(const LabelingReport& r);
std::string LabelingReportText(const LabelingReport& r);

}  // namespace closedloop
