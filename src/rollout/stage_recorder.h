// StageRecorder: what one stage of a rollout observes of live traffic. It is the
// SplitObserver the serving path reports to (serving/traffic_split.h): counts and
// latencies per arm in atomics (no lock on the request path), and — in shadow —
// a bounded queue of mirrored requests that one worker thread runs through the
// challenger, comparing its label with the champion's. A full queue drops the
// mirror (counted); the customer never waits for the shadow.
//
// One recorder per stage: a new stage starts from zero. Thread safety: OnServed
// and Mirror from any thread; Snapshot from any thread; the destructor stops the
// worker after the queued mirrors ran.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>

#include "core/clock.h"
#include "core/mpmc_queue.h"
#include "rollout/latency_histogram.h"
#include "rollout/rollout_policy.h"
#include "serving/traffic_split.h"

namespace closedloop {

class StageRecorder final : public SplitObserver {
 public:
  // `shadow`: start the mirror worker (queue of `queue_capacity`).
  StageRecorder(bool shadow, const Clock& clock, size_t queue_capacity = 4096);
  ~StageRecorder() override;

  void OnServed(Arm arm, bool ok, double latency_ms) override;
  void Mirror(std::shared_ptr<const ModelVersion> challenger, std::string text,
              std::string champion_label) override;

  // Counts and latencies so far (feedback scores are filled in by the controller).
  StageEvidence Snapshot() const;
  // Waits until every mirror queued so far has run (tests and shutdown).
  void DrainMirrors();

 private:
  struct ArmCounters {
    std::atomic<int64_t> requests{0}, failures{0};
    LatencyHistogram latency;
  };
  struct MirrorJob {
    std::shared_ptr<const ModelVersion> challenger;
    std::string text, champion_label;
  };
  void Worker();

  const Clock& clock_;
  ArmCounters champion_, challenger_;
  std::atomic<int64_t> mirrored_{0}, agreed_{0}, mirror_failures_{0}, mirror_dropped_{0};
  LatencyHistogram mirror_latency_;
  std::unique_ptr<BoundedMpmcQueue<MirrorJob>> queue_;  // shadow only
  std::atomic<int64_t> queued_{0}, done_{0};
  std::mutex mu_;  // for the worker's sleep and DrainMirrors' wait; not on the request path
  std::condition_variable wake_, progress_;
  bool stop_ = false;
  std::thread worker_;
};

}  // namespace closedloop
