// Out-of-scope evaluation: how well a confidence threshold separates inquiries
// that belong to no intent the model knows from those it should answer. A row is
// out of scope when its true label is unknown to the model or is one of the
// named `oos_labels`; the model rejects a row when its top probability is below
// the threshold (the rule the support app escalates by). Other in-scope scores
// (serving/oos_score.h: max_logit, energy) rank rows the same way: a row scoring
// below the threshold is rejected. Pure functions.
#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"
#include "learn/evaluation.h"

namespace closedloop {

struct OosPoint {
  double threshold = 0;
  double in_scope_accuracy = 0;  // in-scope rows answered (not rejected) with the right label
  double in_scope_coverage = 0;  // in-scope rows not rejected
  double oos_recall = 0;         // out-of-scope rows rejected
  double oos_precision = 0;      // rejected rows that are out of scope (0 when none rejected)
};

struct OosReport {
  size_t in_scope_rows = 0, oos_rows = 0;
  OosPoint at_threshold;
  std::string score = "max_probability";
  // max_probability: thresholds 0.05, 0.10, ..., 0.95; other scores: the 5%, 10%,
  // ..., 95% quantiles of the in-scope rows' scores.
  std::vector<OosPoint> curve;
  std::optional<double> auroc;  // of the score separating in-scope (high) from out-of-scope
};

// `model_labels` is how many leading entries of `scored.labels` the model knows.
// InvalidArgument when the data has no out-of-scope or no in-scope rows.
// `scores` (optional, one per scored row, named `score_name`) replace the top
// probability as what the threshold applies to.
StatusOr<OosReport> EvaluateOutOfScope(const ScoredTable& scored, size_t model_labels,
                                       const std::set<std::string>& oos_labels, double threshold,
                                       const std::vector<double>* scores = nullptr,
                                       const std::string& score_name = "max_probability");

// The in-scope score of every row ScoreModelOnFile scores (same rows, same order).
StatusOr<std::vector<double>> InScopeScoresOnFile(const std::string& model_dir,
                                                  const std::string& data_file, TableFormat format,
                                                  const std::string& text_col,
                                                  const std::string& label_col,
                                                  const std::string& score_name);

// {"in_scope_rows", "oos_rows", "threshold", "in_scope_accuracy", "in_scope_coverage",
//  "oos_recall", "oos_precision", "auroc", "curve": [{threshold, ...}]}
std::string RenderOosJson(const OosReport& report);

}  // namespace closedloop
