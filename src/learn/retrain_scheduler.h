// RetrainScheduler: decides when to retrain and runs one retraining at a time on
// its own thread (training never runs on an io thread).
//
// Triggers, for retrain.model (automatic ones only while the model has no
// @challenger waiting for or in its rollout):
//   labels    at least min_new_labels human labels arrived after the labels the
//             previous retraining saw (that watermark is the registered model's tag
//             closedloop.retrain.labels_until, so it survives restarts);
//   schedule  schedule_minutes passed since the previous retraining (tag
//             closedloop.retrain.last_ms);
//   events    Request(model, reason): `closedloop retrain`, POST /v1/retrain, or
//             the monitor's drift/accuracy alerts — the hook other components call.
// Outcomes (passed or not, or the error) are kept for Recent(); the full record
// of each is its MLflow run.
//
// Thread safety: every public method from any thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "learn/retrainer.h"

namespace closedloop {

class RetrainScheduler {
 public:
  // `env`'s references must outlive the scheduler.
  RetrainScheduler(const RetrainConfig& config, RetrainEnv env);
  ~RetrainScheduler();

  void Start();
  void Stop();  // waits for a retraining in progress to finish
  // Queues a retraining; false when one for the model is already queued.
  bool Request(const std::string& model, const std::string& reason);
  // The automatic triggers, once (what the thread does every check_interval_ms).
  void CheckTriggers();

  struct State {
    std::string running;  // model being retrained, "" when idle
    std::vector<std::string> queued;
    std::vector<RetrainOutcome> recent;  // newest first, at most 20
  };
  State state() const;

 private:
  struct Job {
    std::string model, reason;
  };
  void Loop();
  void Run(const Job& job);

  const RetrainConfig config_;
  RetrainEnv env_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Job> queue_;              // guarded by mu_
  std::string running_;                // guarded by mu_
  std::deque<RetrainOutcome> recent_;  // guarded by mu_
  bool stop_ = false;                  // guarded by mu_
  std::thread thread_;
};

}  // namespace closedloop
