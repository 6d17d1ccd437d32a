// The labels people's answers settle on, per finished labeling task of a model
// (learn/annotation_store.h), for retraining and reports.
//   "majority"     the task's final label (majority of its answers, set when it closed)
//   "dawid_skene"  the Dawid–Skene posterior over every answer to the model's tasks
//                  (gold items included, so annotators' reliability is learned from
//                  all their work); confidence = that posterior
// Gold tasks and tasks still open are left out. Reads through the given connection.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "learn/label_aggregation.h"
#include "store/sqlite_db.h"

namespace closedloop {

struct AggregatedTaskLabel {
  std::string task_id;
  std::optional<std::string> request_id;
  std::string text;
  std::string label;                     // a label, "none" or "oos"
  double confidence = 1;                 // majority: share of answers; dawid_skene: posterior
  std::string strategy;                  // how the task was selected
  double propensity = 1;                 // its selection propensity
  std::optional<std::string> predicted;  // what the model served
  int answers = 0;
  int64_t done_ms = 0;
};

// Every non-skip answer of `model`'s tasks as an AnswerSet, with the names its
// indices stand for. Gold tasks are included (their answers are answers too).
struct ModelAnswers {
  AnswerSet set;
  std::vector<std::string> task_ids;    // by item
  std::vector<std::string> annotators;  // by annotator
  std::vector<std::string> answers;     // by class: a label, "none" or "oos"
};
StatusOr<ModelAnswers> LoadModelAnswers(SqliteDb& db, const std::string& model);

StatusOr<std::vector<AggregatedTaskLabel>> AggregatedLabels(SqliteDb& db, const std::string& model,
                                                            const std::string& method);

}  // namespace closedloop
