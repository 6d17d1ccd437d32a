#include "gateway/rate_limit_admission.h"

#include <cstdio>

#include "core/json_writer.h"

namespace closedloop {

RateLimitAdmission::RateLimitAdmission(const RateLimitConfig& config, const Clock& clock,
                                       MetricsRegistry& metrics)
    : config_(config),
      exempt_(config.exempt_routes.begin(), config.exempt_routes.end()),
      limiter_(clock, config.max_keys),
      limited_(metrics.AddCounter("closedloop_rate_limited_total",
                                  "Requests refused with 429 by the rate limits, by route.",
                                  {"route"})) {}

bool RateLimitAdmission::Admit(RequestContext& ctx, std::string_view route,
                               std::string_view client_ip) {
  if (exempt_.count(route) > 0) return true;
  const RateLimit limit{config_.per_ip_rate,
                        config_.per_ip_burst > 0 ? config_.per_ip_burst : config_.per_ip_rate};
  char key[64];
  int n = std::snprintf(key, sizeof key, "ip:%.*s", static_cast<int>(client_ip.size()),
                        client_ip.data());
  RateDecision d = limiter_.Acquire(std::string_view(key, static_cast<size_t>(n)), limit);
  ctx.headers.emplace_back("RateLimit-Limit", std::to_string(d.limit));
  ctx.headers.emplace_back("RateLimit-Remaining", std::to_string(d.remaining));
  ctx.headers.emplace_back("RateLimit-Reset", std::to_string(d.reset_seconds));
  if (d.allowed) return true;
  limited_->Labels({route}).Inc();
  char message[200];
  std::snprintf(message, sizeof message,
                "rate limit exceeded for client %.*s: %g requests per second, burst %lld; "
                "retry in %lld s",
                static_cast<int>(client_ip.size()), client_ip.data(), config_.per_ip_rate,
                static_cast<long long>(d.limit), static_cast<long long>(d.retry_after_seconds));
  ctx.Json(429, ErrorBody(message));
  ctx.headers.emplace_back("Retry-After", std::to_string(d.retry_after_seconds));
  return false;
}

}  // namespace closedloop
