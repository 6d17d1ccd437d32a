#include "rollout/stage_recorder.h"

namespace closedloop {

StageRecorder::StageRecorder(bool shadow, const Clock& clock, size_t queue_capacity)
    : clock_(clock) {
  if (shadow) {
    queue_ = std::make_unique<BoundedMpmcQueue<MirrorJob>>(queue_capacity);
    worker_ = std::thread([this] { Worker(); });
  }
}

StageRecorder::~StageRecorder() {
  if (worker_.joinable()) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      stop_ = true;
    }
    wake_.notify_all();
    worker_.join();
  }
}

void StageRecorder::OnServed(Arm arm, bool ok, double latency_ms) {
  ArmCounters& a = arm == Arm::kChallenger ? challenger_ : champion_;
  a.requests.fetch_add(1, std::memory_order_relaxed);
  if (!ok) a.failures.fetch_add(1, std::memory_order_relaxed);
  a.latency.Record(latency_ms);
}

void StageRecorder::Mirror(std::shared_ptr<const ModelVersion> challenger, std::string text,
                           std::string champion_label) {
  if (!queue_) return;
  MirrorJob job{std::move(challenger), std::move(text), std::move(champion_label)};
  if (!queue_->TryPush(job)) {
    mirror_dropped_.fetch_add(1, std::memory_order_relaxed);
    return;
  }
  queued_.fetch_add(1, std::memory_order_release);
  wake_.notify_one();  // cheap when the worker is not waiting
}

void StageRecorder::Worker() {
  MirrorJob job;
  for (;;) {
    while (queue_->TryPop(job)) {
      auto start = clock_.MonotonicNow();
      auto scores = job.challenger->backend->PredictText(job.text, 1);
      double ms = std::chrono::duration<double, std::milli>(clock_.MonotonicNow() - start).count();
      mirrored_.fetch_add(1, std::memory_order_relaxed);
      if (!scores.ok() || scores->empty()) {
        mirror_failures_.fetch_add(1, std::memory_order_relaxed);
      } else {
        mirror_latency_.Record(ms);
        const auto& labels = job.challenger->backend->labels();
        if (labels[static_cast<size_t>(scores->front().index)] == job.champion_label) {
          agreed_.fetch_add(1, std::memory_order_relaxed);
        }
      }
      job = MirrorJob{};  // release the version now, not at the next pop
      done_.fetch_add(1, std::memory_order_release);
      progress_.notify_all();
    }
    std::unique_lock<std::mutex> lock(mu_);
    if (stop_ && done_.load() >= queued_.load()) return;
    wake_.wait_for(lock, std::chrono::milliseconds(5));
  }
}

void StageRecorder::DrainMirrors() {
  if (!queue_) return;
  int64_t target = queued_.load(std::memory_order_acquire);
  std::unique_lock<std::mutex> lock(mu_);
  // The worker notifies without the lock, so wait in short slices (no lost wake-up).
  while (done_.load(std::memory_order_acquire) < target) {
    progress_.wait_for(lock, std::chrono::milliseconds(2));
  }
}

StageEvidence StageRecorder::Snapshot() const {
  StageEvidence e;
  e.champion.requests = champion_.requests.load();
  e.champion.failures = champion_.failures.load();
  e.champion.p99_ms = champion_.latency.Quantile(0.99);
  e.challenger.requests = challenger_.requests.load();
  e.challenger.failures = challenger_.failures.load();
  e.challenger.p99_ms = challenger_.latency.Quantile(0.99);
  e.challenger_above_champion_p99 = challenger_.latency.CountAbove(e.champion.p99_ms);
  e.mirrored = mirrored_.load();
  e.agreed = agreed_.load();
  e.mirror_failures = mirror_failures_.load();
  e.mirror_dropped = mirror_dropped_.load();
  e.mirror_p99_ms = mirror_latency_.Quantile(0.99);
  return e;
}

}  // namespace closedloop
