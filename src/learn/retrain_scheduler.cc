#include "learn/retrain_scheduler.h"

#include <chrono>

#include "core/logging.h"
#include "learn/feedback_dataset.h"

namespace closedloop {

namespace {

constexpr const char* kLabelsUntil = "closedloop.retrain.labels_until";
constexpr const char* kLastMs = "closedloop.retrain.last_ms";

int64_t TagInt(const RegisteredModel& m, const char* key) {
  for (const auto& [k, v] : m.tags) {
    if (k == key) {
      try {
        return std::stoll(v);
      } catch (...) {
        return 0;
      }
    }
  }
  return 0;
}

}  // namespace

RetrainScheduler::RetrainScheduler(const RetrainConfig& config, RetrainEnv env)
    : config_(config), env_(std::move(env)) {}

RetrainScheduler::~RetrainScheduler() { Stop(); }

void RetrainScheduler::Start() {
  thread_ = std::thread([this] { Loop(); });
}

void RetrainScheduler::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

bool RetrainScheduler::Request(const std::string& model, const std::string& reason) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& j : queue_) {
      if (j.model == model) return false;
    }
    queue_.push_back({model, reason});
  }
  cv_.notify_all();
  return true;
}

void RetrainScheduler::CheckTriggers() {
  const std::string& model = config_.model;
  if (model.empty()) return;
  if (env_.registry.GetVersionByAlias(model, "challenger").ok()) return;  // one at a time
  auto registered = env_.registry.GetRegisteredModel(model);
  if (!registered.ok()) return;
  int64_t now = env_.clock.NowUnixMillis();
  if (config_.schedule_minutes > 0) {
    int64_t last = TagInt(*registered, kLastMs);
    if (now - last >= config_.schedule_minutes * 60000) {
      Request(model, "schedule");
      return;
    }
  }
  if (config_.min_new_labels > 0) {
    int64_t since = TagInt(*registered, kLabelsUntil);
    int64_t count = 0;
    Status s = env_.read_predictions([&](SqliteDb& db) -> Status {
      ASSIGN_OR_RETURN(count, CountHumanLabelsSince(db, model, since));
      return OkStatus();
    });
    if (s.ok() && count >= config_.min_new_labels) {
      Request(model, "labels: " + std::to_string(count) + " new human labels");
    }
  }
}

void RetrainScheduler::Loop() {
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (queue_.empty()) {
      cv_.wait_for(lock, std::chrono::milliseconds(config_.check_interval_ms));
      if (stop_) break;
      if (queue_.empty()) {
        lock.unlock();
        CheckTriggers();
        lock.lock();
      }
      continue;
    }
    Job job = queue_.front();
    queue_.pop_front();
    running_ = job.model;
    lock.unlock();
    Run(job);
    lock.lock();
    running_.clear();
  }
}

void RetrainScheduler::Run(const Job& job) {
  auto outcome = RetrainModel(job.model, job.reason, config_, env_);
  RetrainOutcome o;
  if (outcome.ok()) {
    o = std::move(outcome).value();
  } else {
    o.model = job.model;
    o.trigger = job.reason;
    o.error = outcome.status().message();
    o.finished_ms = env_.clock.NowUnixMillis();
  }
  // The watermark moves even when the gates fail: the same labels do not
  // retrigger; new ones will.
  if (o.error.empty()) {
    (void)env_.registry.SetRegisteredModelTag(job.model, kLabelsUntil,
                                              std::to_string(o.newest_label_ms));
  }
  (void)env_.registry.SetRegisteredModelTag(job.model, kLastMs,
                                            std::to_string(env_.clock.NowUnixMillis()));
  auto line = o.passed ? LogInfo("retrained: candidate registered as @challenger")
                       : LogWarn("retraining produced no challenger");
  line.Kv("model", o.model).Kv("trigger", o.trigger).Kv("passed", o.passed ? "true" : "false");
  if (o.version) line.Kv("version", *o.version);
  if (!o.error.empty()) line.Kv("error", o.error);
  for (const auto& g : o.gates) line.Kv("gate_" + g.name, g.detail);
  std::lock_guard<std::mutex> lock(mu_);
  recent_.push_front(std::move(o));
  if (recent_.size() > 20) recent_.pop_back();
}

RetrainScheduler::State RetrainScheduler::state() const {
  std::lock_guard<std::mutex> lock(mu_);
  State s;
  s.running = running_;
  for (const auto& j : queue_) s.queued.push_back(j.model);
  s.recent.assign(recent_.begin(), recent_.end());
  return s;
}

}  // namespace closedloop
