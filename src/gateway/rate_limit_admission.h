// RateLimitAdmission: token buckets in front of the routes ([rate_limit]).
//
// After authentication (Admit): an authenticated request counts against its
// principal — the principal's own rule, else the most generous rule among its
// scopes (roles), else per_principal_rate; without any of those, and for
// unauthenticated requests, against its client address (per_ip_rate). Every
// limited answer carries RateLimit-Limit, RateLimit-Remaining and
// RateLimit-Reset (IETF httpapi rate-limit headers); a refused request gets 429
// with Retry-After and a JSON error naming the principal or address and the
// limit. Routes in exempt_routes (health and metrics by default) are never limited.
//
// Failed-auth throttling: OnAuthFailure() takes a token from the address's
// failure bucket (failed_auth_rate / failed_auth_burst) on each invalid
// credential; failed_auth_check(), installed *before* authentication, answers 429
// to an address whose bucket is empty, so guessing keys is slowed to the refill
// rate whatever credentials come next.
//
// Thread safety: as RateLimiter (sharded locks); rules are immutable; the
// metrics are atomics.
#pragma once

#include <set>
#include <string>
#include <unordered_map>

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
  bool PerMessage() const override { return true; }

  Admission* failed_auth_check() { return &failed_auth_check_; }
  void OnAuthFailure(std::string_view client_ip);

  // Whether [rate_limit] limits anything (with auth on, failed-auth throttling counts).
  static bool Enabled(const RateLimitConfig& config, bool auth_enabled);

 private:
  class FailedAuthCheck final : public Admission {
   public:
    explicit FailedAuthCheck(RateLimitAdmission& owner) : owner_(owner) {}
    bool Admit(RequestContext& ctx, std::string_view route, std::string_view client_ip) override;

   private:
    RateLimitAdmission& owner_;
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view k) const { return std::hash<std::string_view>{}(k); }
  };
  using Rules = std::unordered_map<std::string, RateLimit, Hash, std::equal_to<>>;
  static Rules ToRules(const std::vector<RateLimitRule>& rules);
  // The principal's limit (rate 0: none of its own).
  RateLimit PrincipalLimit(const RequestContext& ctx) const;
  void Refuse(RequestContext& ctx, std::string_view route, const RateDecision& d,
              std::string_view who, double rate, const char* reason);

  const RateLimitConfig config_;
  const std::set<std::string, std::less<>> exempt_;
  const Rules principals_, scopes_;
  RateLimiter limiter_;
  FailedAuthCheck failed_auth_check_{*this};
  Family<Counter>* limited_;
};

}  // namespace closedloop
