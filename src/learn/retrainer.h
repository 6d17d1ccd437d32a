// Retraining a model (fastText, mlp or XGBoost) from its feedback, behind quality gates.
//
// The candidate is trained with the champion's own recipe — the inputs,
// columns and hyper-parameters recorded in the champion's training run — on
//   original data ∪ feedback examples (learn/feedback_dataset.h),
// where an example of weight w is written floor(w) times plus once more with
// probability frac(w) (fastText has no per-example weights; the draw is fixed by
// the request id). Every example's provenance is kept in the version directory
// as provenance.jsonl. The candidate and the champion are then evaluated on
//   the fixed holdout (retrain.holdout, else the champion run's test file), and
//   the recent human-labelled data held out of training,
// and the gates are:
//   holdout      candidate accuracy ≥ champion accuracy − max_holdout_drop;
//   recent       the same on the held-out human labels (when there are any);
//   must_pass    every inquiry of retrain.must_pass (CSV text,label) right.
// A candidate that passes is registered as the next version with the alias
// `challenger` (which starts its rollout); either way the run is logged with its
// gates (tag closedloop.retrain.gates = passed | failed). Nothing of a failed
// candidate stays in the repository.
//
// Not thread-safe: one retraining at a time per data dir (RetrainScheduler).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/config.h"
#include "core/status.h"
#include "store/sqlite_db.h"
#include "tracking/model_registry.h"
#include "tracking/tracking_store.h"

namespace closedloop {

struct GateResult {
  std::string name;  // holdout | recent | must_pass
  bool passed = false;
  std::string detail;
};

struct RetrainOutcome {
  std::string model;
  std::string mode = "scratch";  // scratch | fine_tune (RetrainConfig::mode)
  std::string trigger;           // manual | labels | schedule | an event's reason
  int64_t started_ms = 0, finished_ms = 0;
  bool passed = false;  // every gate passed and the candidate is registered
  std::string error;    // set when the retraining itself failed
  int64_t champion_version = 0;
  std::optional<int64_t> version;  // registered candidate
  std::string run_id;
  size_t original_rows = 0, human_labels = 0, annotations = 0, weak_positives = 0, low_scored = 0,
         without_text = 0, evaluation_rows = 0, written_rows = 0;
  int64_t newest_label_ms = 0;  // the labels this retraining saw go up to here
  double candidate_holdout = 0, champion_holdout = 0;
  std::optional<double> candidate_recent, champion_recent;
  // fine_tune: old rows rehearsed, and outputs added for labels new in the feedback.
  size_t replay_rows = 0, added_labels = 0;
  std::vector<GateResult> gates;
};

struct RetrainEnv {
  TrackingStore& runs;
  ModelRegistry& registry;
  // Runs a read on the prediction log's database.
  std::function<Status(const std::function<Status(SqliteDb&)>&)> read_predictions;
  std::string data_dir;  // staging lives under <data_dir>/staging
  const Clock& clock;
  int threads = 0;  // training threads; 0 = cores
};

// An error Status means no candidate could be trained (no champion, no recipe,
// unreadable data); a candidate that fails its gates is an OK outcome, !passed.
StatusOr<RetrainOutcome> RetrainModel(const std::string& model, const std::string& trigger,
                                      const RetrainConfig& config, RetrainEnv& env);

std::string RetrainOutcomeJson(const RetrainOutcome& o);

}  // namespace closedloop
