#include "app/server_front.h"

namespace closedloop {

StatusOr<std::unique_ptr<ServerFront>> ServerFront::Install(const Config& config,
                                                            const Clock& clock,
                                                            MetricsRegistry& metrics,
                                                            HttpServer& server) {
  auto front = std::make_unique<ServerFront>();
  if (!config.tracing.otlp_endpoint.empty()) {
    front->tracer = std::make_unique<OtlpExporter>(config.tracing, metrics);
  }
  server.SetTracing(config.tracing, front->tracer.get());
  if (RateLimitAdmission::Enabled(config.rate_limit, config.auth.enabled)) {
    front->rate_limits = std::make_unique<RateLimitAdmission>(config.rate_limit, clock, metrics);
  }
  if (config.auth.enabled) {
    ASSIGN_OR_RETURN(front->auth, BuildAuth(config, clock, metrics));
    if (RateLimitAdmission* limits = front->rate_limits.get()) {
      server.AddAdmission(limits->failed_auth_check());
      front->auth.admission->SetFailureListener(
          [limits](std::string_view client_ip) { limits->OnAuthFailure(client_ip); });
    }
    server.AddAdmission(front->auth.admission.get());
  }
  if (front->rate_limits) server.AddAdmission(front->rate_limits.get());
  ASSIGN_OR_RETURN(front->audit, AuditLog::FromConfig(config, metrics, clock));
  if (front->audit) server.SetAudit(front->audit.get());
  return front;
}

void ServerFront::Start() {
  if (tracer) tracer->Start();
  if (audit) audit->Start();
}

void ServerFront::Stop() {
  if (tracer) tracer->Stop();  // sends the spans still queued
  if (audit) audit->Stop();    // writes and syncs the lines still queued
}

}  // namespace closedloop
