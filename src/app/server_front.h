// ServerFront: what stands between the socket and the routes of a serving
// process (`up`, `serve`, the gateway role), built the same way for each:
//
// - the admission checks, in order: failed-auth throttling (an address that sent
//   too many invalid credentials is refused before its next one is looked at),
//   authentication and scopes ([auth]), then the rate limits per principal or
//   address ([rate_limit]);
// - the OTLP span exporter ([tracing] otlp_endpoint) and the audit log ([audit]).
// Each part exists only when configured.
//
// Lifecycle: Install() before the server starts; Start() with it; Stop() after
// the server drained (sends the spans and writes the audit lines still queued).
// Ownership: the front owns its parts and must outlive the server.
#pragma once

#include <memory>

#include "auth/auth_admission.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/status.h"
#include "gateway/audit_log.h"
#include "gateway/rate_limit_admission.h"
#include "http/server.h"
#include "monitor/metrics.h"
#include "monitor/otlp_exporter.h"

namespace closedloop {

struct ServerFront {
  // Builds the parts from `config` and installs them on `server`.
  static StatusOr<std::unique_ptr<ServerFront>> Install(const Config& config, const Clock& clock,
                                                        MetricsRegistry& metrics,
                                                        HttpServer& server);
  void Start();
  void Stop();

  AuthStack auth;
  std::unique_ptr<RateLimitAdmission> rate_limits;
  std::unique_ptr<OtlpExporter> tracer;
  std::unique_ptr<AuditLog> audit;
};

}  // namespace closedloop
