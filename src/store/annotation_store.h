// AnnotationStore: the labeling tables of the prediction log (predictions.db, migration 5): the
// tasks people are asked to label and their answers (annotations).
//
// A task is one text of one model, with how it was chosen (strategy, score and
// selection propensity), the model's suggestions (top-k), how many people should
// answer it (overlap) and, for gold items, the known label. An annotation is one
// person's answer: a label, or "skip" (not counted), "none" (none of the labels
// fits) or "oos" (out of scope). Each annotator answers a task at most once
// (AlreadyExists otherwise: HTTP 409).
//
// A task is done when `overlap` people answered it the same way. When they
// disagree it is marked hard (routed to annotators with a higher measured
// accuracy) and its overlap is raised to `max_overlap`; at that many answers it is
// done with the majority answer. Gold tasks never close: everyone may answer them
// once, and their answers measure each annotator's accuracy.
//
// Functions take the connection to use: writes run as PredictionLog jobs (inside
// the group commit), reads on its read connections. Not thread-safe per connection.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/sqlite_db.h"

namespace closedloop {

struct LabelingTask {
  std::string task_id;  // ULID
  std::string model;
  std::optional<std::string> request_id;  // the prediction; none for gold items added by hand
  std::string text;
  int64_t created_ms = 0;
  std::string strategy;  // least_confidence | margin | entropy | qbc [+diversity] | random | gold |
                         // escalation
  double score = 0;
  double propensity = 1;
  std::string suggestions_json = "[]";   // [{"label":..,"p":..}], most likely first
  std::optional<std::string> predicted;  // the label the model served
  std::optional<std::string> gold_label;
  int overlap = 2;
  bool hard = false;
  std::string status = "open";  // open | done
  std::optional<std::string> final_label;
  std::optional<int64_t> done_ms;
  int answers = 0;  // annotations other than skip (read only)
};

struct Annotation {
  std::string annotation_id;  // ULID
  std::string task_id;
  std::string annotator;
  std::string answer;                // label | skip | none | oos
  std::optional<std::string> label;  // answer == "label"
  int64_t ts_ms = 0;
  std::optional<int64_t> duration_ms;  // time the person spent on it
  std::string source = "labeling";     // labeling | escalation
};

// What is given back after an annotation is stored.
struct AnnotationOutcome {
  std::string task_status;  // open | done
  int answers = 0;          // other than skip
  int overlap = 0;
  bool hard = false;
  std::optional<std::string> final_label;
};

// The class an answer stands for: its label, or "none" / "oos" (skip: "skip").
std::string AnswerClass(const std::string& answer, const std::optional<std::string>& label);

// Inserts; a task whose request_id is already queued is left out (false).
StatusOr<bool> InsertTask(SqliteDb& db, const LabelingTask& task);
StatusOr<LabelingTask> GetTask(SqliteDb& db, const std::string& task_id);
StatusOr<std::optional<LabelingTask>> FindTaskByRequest(SqliteDb& db,
                                                        const std::string& request_id);
// Tasks of `model`, newest first; status "open" | "done" | "all".
StatusOr<std::vector<LabelingTask>> ListTasks(SqliteDb& db, const std::string& model,
                                              const std::string& status, int64_t limit);
StatusOr<std::vector<Annotation>> TaskAnnotations(SqliteDb& db, const std::string& task_id);

// The next open tasks of `model` for `annotator`: not answered (or skipped) by
// them, hard tasks first when `may_take_hard` (else none), then tasks that already
// have answers (to finish their overlap), then by score. Gold tasks they have not
// answered are mixed in at random places, `gold` of them at most.
StatusOr<std::vector<LabelingTask>> NextTasksFor(SqliteDb& db, const std::string& model,
                                                 const std::string& annotator, int64_t limit,
                                                 bool may_take_hard, int64_t gold, uint64_t seed);

// Stores `a` and moves its task on (see the header comment). NotFound for an
// unknown task, AlreadyExists when the annotator answered it before.
StatusOr<AnnotationOutcome> AddAnnotation(SqliteDb& db, const Annotation& a, int max_overlap,
                                          int64_t now_ms);

// Tasks chosen from traffic for `model` since `since_ms` (gold and escalation
// tasks are not counted): what the budgets limit.
StatusOr<int64_t> CountSelectedSince(SqliteDb& db, const std::string& model, int64_t since_ms);

// Per annotator, over the gold tasks of `model` they answered (skips not counted).
struct GoldScore {
  int64_t answered = 0;
  int64_t correct = 0;
  double accuracy() const { return answered ? static_cast<double>(correct) / answered : 0; }
};
StatusOr<std::map<std::string, GoldScore>> GoldScores(SqliteDb& db, const std::string& model);

}  // namespace closedloop
