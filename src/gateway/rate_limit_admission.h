// RateLimitAdmission: per-client-address token buckets in front of the routes
// ([rate_limit] per_ip_rate / per_ip_burst). Every limited answer carries
// RateLimit-Limit, RateLimit-Remaining and RateLimit-Reset (IETF httpapi
// rate-limit headers); a refused request gets 429 with Retry-After and a JSON
// error naming the client and the limit. Routes in exempt_routes (health and
// metrics by default) are never limited.
//
// Thread safety: as RateLimiter (sharded locks); the metrics are atomics.
#pragma once

#include <set>
#include <string>

#include "core/clock.h"
#include "core/config.h"
#include "gateway/rate_limiter.h"
#include "http/admission.h"
#include "monitor/metrics.h"

namespace closedloop {

class RateLimitAdmission final : public Admission {
 public:
  // `clock` and `metrics` must outlive the admission.
  RateLimitAdmission(const RateLimitConfig& config, const Clock& clock, MetricsRegistry& metrics);
  bool Admit(RequestContext& ctx, std::string_view route, std::string_view client_ip) override;

 private:
  const RateLimitConfig config_;
  const std::set<std::string, std::less<>> exempt_;
  RateLimiter limiter_;
  Family<Counter>* limited_;
};

}  // namespace closedloop
