// HealthChecker: active health checks of the gateway's upstreams. Every
// `health_interval_ms` it asks each upstream `GET /v2/health/ready` (timeout
// `health_timeout_ms`); an upstream is taken out of balancing after
// `unhealthy_threshold` failed checks in a row (no answer or not 200) and put
// back after `healthy_threshold` good ones. Passive failure detection is the
// circuit breaker's job; the two together cover a replica that is dead (refuses
// connections), hung (times out) or draining (503).
//
// Lifecycle: CheckOnce() runs one round synchronously (Start-up: the first
// round decides, one answer each); Start() begins the periodic thread; Stop() or
// the destructor ends it. Thread safety: Start/Stop from one thread.
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/config.h"
#include "gateway/upstream.h"

namespace closedloop {

class HealthChecker {
 public:
  // The upstreams must outlive the checker.
  HealthChecker(const GatewayConfig& config, std::vector<Upstream*> upstreams);
  ~HealthChecker();
  // One round; at start-up (first = true) one answer sets the state.
  void CheckOnce(bool first = false);
  void Start();
  void Stop();

 private:
  void Run();

  const GatewayConfig config_;
  const std::vector<Upstream*> upstreams_;
  std::vector<int> passes_, failures_;  // consecutive, per upstream (checker thread only)
  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace closedloop
