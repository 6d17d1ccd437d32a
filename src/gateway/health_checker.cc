#include "gateway/health_checker.h"

#include "http/http_client.h"

namespace closedloop {

HealthChecker::HealthChecker(const GatewayConfig& config, std::vector<Upstream*> upstreams)
    : config_(config),
      upstreams_(std::move(upstreams)),
      passes_(upstreams_.size(), 0),
      failures_(upstreams_.size(), 0) {}

HealthChecker::~HealthChecker() { Stop(); }

void HealthChecker::CheckOnce(bool first) {
  for (size_t i = 0; i < upstreams_.size(); ++i) {
    Upstream& u = *upstreams_[i];
    auto answer = HttpCall("GET", "http://" + u.name() + "/v2/health/ready", "", {},
                           std::chrono::milliseconds(config_.health_timeout_ms));
    const bool ok = answer.ok() && answer->status == 200;
    if (ok) {
      failures_[i] = 0;
      ++passes_[i];
      if (first || passes_[i] >= config_.healthy_threshold) u.SetHealthy(true);
    } else {
      passes_[i] = 0;
      ++failures_[i];
      if (first || failures_[i] >= config_.unhealthy_threshold) u.SetHealthy(false);
    }
  }
}

void HealthChecker::Start() {
  thread_ = std::thread([this] { Run(); });
}

void HealthChecker::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void HealthChecker::Run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    wake_.wait_for(lock, std::chrono::milliseconds(config_.health_interval_ms),
                   [this] { return stop_; });
    if (stop_) break;
    lock.unlock();
    CheckOnce();
    lock.lock();
  }
}

}  // namespace closedloop
