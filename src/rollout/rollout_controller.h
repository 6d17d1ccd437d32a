// RolloutController: takes a challenger version of a model from shadow through
// the canary steps to @champion, or back out, deciding each step on evidence.
//
//   Start(model, v) (or, with auto_start, a served model that gets a @challenger
//   alias no rollout has seen): shadow — shadow_share of the champion's traffic
//   mirrored to v — when shadow_share > 0, then canary_steps[0]% ... of request
//   keys served by v. Each stage holds until rollout_policy.h says advance or
//   rollback. Advancing to 100% promotes: @champion moves to v (the repository
//   reloads; requests in flight finish on the version they hold), @challenger is
//   removed and the split cleared. Rollback clears the split first (traffic back
//   to the champion at once), then removes @challenger.
//
// Every advance, promotion and rollback is stored with its evidence
// (rollout_store.h); the latest evidence of the current stage is updated on each
// evaluation. After a restart, active rollouts resume at their stage with fresh
// counts. Evaluations run every evaluate_interval_ms on one background thread
// (StartBackground), or on demand with Tick().
//
// Thread safety: every method from any thread; a mutex serializes the control
// plane. The request path touches only the TrafficSplits snapshot and the
// stage recorders' atomics.
#pragma once

#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/clock.h"
#include "core/config.h"
#include "core/status.h"
#include "core/ulid.h"
#include "rollout/rollout_store.h"
#include "rollout/stage_recorder.h"
#include "serving/model_repository.h"
#include "serving/traffic_split.h"
#include "store/prediction_log.h"
#include "tracking/model_registry.h"

namespace closedloop {

class RolloutController {
 public:
  // All references must outlive the controller.
  RolloutController(const RolloutConfig& config, std::unique_ptr<RolloutStore> store,
                    TrafficSplits& splits, ModelRepository& models, ModelRegistry& registry,
                    PredictionLog& log, const Clock& clock);
  ~RolloutController();

  // Re-applies the splits of the rollouts that were active when the process stopped.
  Status Resume();
  // FailedPrecondition: the model has no @champion, v is the champion, or v is not
  // served; AlreadyExists: the model has an active rollout.
  StatusOr<RolloutRow> Start(const std::string& model, int64_t challenger_version);
  // Rolls an active rollout back by hand (FailedPrecondition if it has ended).
  StatusOr<RolloutRow> Rollback(const std::string& id, const std::string& reason);
  // Promotes an active rollout by hand, at whatever stage it is (the decision is
  // stored with the evidence so far); FailedPrecondition if it has ended.
  StatusOr<RolloutRow> Promote(const std::string& id, const std::string& reason);
  // One evaluation of every active rollout (and auto-start).
  void Tick();
  void StartBackground();
  void Stop();

  RolloutStore& store() { return *store_; }
  const RolloutConfig& config() const { return config_; }

 private:
  struct Active {
    RolloutRow row;
    std::shared_ptr<StageRecorder> recorder;
  };
  // All require mu_.
  StatusOr<RolloutRow> StartLocked(const std::string& model, int64_t challenger_version);
  void EnterStage(Active& a);
  void Evaluate(Active& a);
  Status FillScores(const RolloutRow& row, StageEvidence& e);
  void Finish(Active& a, const std::string& state, RolloutDecisionRow decision);
  void AutoStart();
  // Ends the active rollout `id` by hand with `decision` (promote | rollback).
  StatusOr<RolloutRow> EndByHand(const std::string& id, const std::string& decision,
                                 const std::string& reason);

  const RolloutConfig config_;
  std::unique_ptr<RolloutStore> store_;
  TrafficSplits& splits_;
  ModelRepository& models_;
  ModelRegistry& registry_;
  PredictionLog& log_;
  const Clock& clock_;
  UlidGenerator ids_;

  std::mutex mu_;
  std::map<std::string, Active> active_;  // by model; guarded by mu_
  std::mutex bg_mu_;
  std::condition_variable bg_cv_;
  bool bg_stop_ = false;  // guarded by bg_mu_
  std::thread bg_;
};

}  // namespace closedloop
