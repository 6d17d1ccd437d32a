// The labelled examples that a model's feedback yields for retraining, read from
// the prediction log (predictions.db), each with its provenance:
//   human_label    a person's label for a served prediction (a resolved
//                  escalation or feedback with `label`); the latest label of a
//                  prediction wins; weight human_label_weight (default 2: a
//                  verified correction outweighs an original row it contradicts).
//   annotation     the label people settled on for a labeling task (learn/
//                  aggregated_labels.h: [labeling] aggregation) of a prediction
//                  that has no label as feedback; weight human_label_weight × the
//                  label's confidence; "none" answers are not examples
//   weak_positive  a served answer (the reply's intent, else the predicted label)
//                  whose feedback scores (explicit, else implicit) all reach
//                  weak_positive_min_score; weight = mean score × min(1 /
//                  propensity, max_inverse_propensity) — inverse propensity, so
//                  answers served by exploration count for what they are.
// A prediction with any score below that is never a positive; one without its
// text (store_inputs = false, not an escalation) cannot be used and is counted.
// A deterministic 20% of the human labels (by request id) are kept out of
// training as `evaluation` — the newest recent_labels of them; older ones train —
// the recent human-labelled data the gates judge on.
// Not thread-safe; reads through the given connection.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config.h"
#include "core/status.h"
#include "store/sqlite_db.h"

namespace closedloop {

struct FeedbackExample {
  std::string request_id;
  std::string feedback_id;  // the (latest) feedback it comes from
  std::string text;
  std::string label;
  std::string source;  // human_label | annotation | weak_positive
  double weight = 1;
  double score = 0;       // weak positives: the mean feedback score
  double propensity = 1;  // of the served action
  int64_t ts_ms = 0;      // of the feedback
  // Annotations: how the task was selected and what its answers gave.
  std::string strategy;
  double confidence = 1;
  int annotators = 0;
};

struct FeedbackDataset {
  std::vector<FeedbackExample> train;
  std::vector<FeedbackExample> evaluation;  // human labels held out
  size_t human_labels = 0;                  // all, train + evaluation (annotations included)
  size_t annotations = 0;                   // of those, from labeling tasks
  size_t weak_positives = 0;
  size_t low_scored = 0;  // predictions with a score below the threshold: not positives
  size_t without_text = 0;
  int64_t newest_label_ms = 0;
};

StatusOr<FeedbackDataset> BuildFeedbackDataset(SqliteDb& predictions, const std::string& model,
                                               const RetrainConfig& config);

// Human labels for `model` given after `since_ms` (the retraining trigger's count):
// feedback labels and labeling tasks finished since then.
StatusOr<int64_t> CountHumanLabelsSince(SqliteDb& predictions, const std::string& model,
                                        int64_t since_ms);

}  // namespace closedloop
