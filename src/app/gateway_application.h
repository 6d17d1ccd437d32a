// GatewayApplication: the gateway role in its own process (`closedloop serve
// --role gateway --upstream URL ...`): authentication, rate limits and tracing
// as in `up`, then every request forwarded to the inference replicas
// (gateway/proxy.h) with health checks and circuit breakers. Its own routes:
// /v2/health/live, /v2/health/ready (ready while an upstream is healthy) and
// /metrics (the gateway's metrics, per upstream included).
//
// Lifecycle: Create() checks the config and the upstream addresses; Start() runs
// one round of health checks, then serves; Shutdown() turns readiness off and
// drains like Application. Thread safety: Create/Start/Shutdown from one thread.
#pragma once

#include <atomic>
#include <memory>

#include "app/server_front.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/status.h"
#include "gateway/health_checker.h"
#include "gateway/proxy.h"
#include "http/router.h"
#include "http/server.h"
#include "monitor/metrics.h"

namespace closedloop {

class GatewayApplication {
 public:
  // `clock` must outlive the application. config.gateway.upstreams must not be empty.
  static StatusOr<std::unique_ptr<GatewayApplication>> Create(const Config& config,
                                                              const Clock& clock);
  ~GatewayApplication();

  Status Start();
  uint16_t port() const { return server_->port(); }
  bool ready() const;
  std::string NotReadyReason() const;  // "" when ready
  void Shutdown();

 private:
  explicit GatewayApplication(const Config& config);

  const Config config_;
  MetricsRegistry metrics_;
  Router router_;
  std::unique_ptr<Proxy> proxy_;
  std::unique_ptr<HealthChecker> health_;
  std::unique_ptr<ServerFront> front_;  // auth, rate limits, tracing, audit: as configured
  std::unique_ptr<HttpServer> server_;
  std::atomic<bool> shutting_down_{false};
};

}  // namespace closedloop
