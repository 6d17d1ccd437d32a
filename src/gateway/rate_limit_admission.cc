#include "gateway/rate_limit_admission.h"

#include <algorithm>
#include <cstdio>
#include <cstring>

#include "core/json_writer.h"

namespace closedloop {

namespace {

RateLimit Limit(double rate, double burst) { return {rate, burst > 0 ? burst : rate}; }

// "<prefix><value>" in a stack buffer: bucket keys without allocating.
struct Key {
  Key(std::string_view prefix, std::string_view value) {
    n = std::min(prefix.size(), sizeof buf);
    std::memcpy(buf, prefix.data(), n);
    const size_t m = std::min(value.size(), sizeof buf - n);
    std::memcpy(buf + n, value.data(), m);
    n += m;
  }
  std::string_view view() const { return {buf, n}; }
  char buf[160];
  size_t n = 0;
};

}  // namespace

RateLimitAdmission::Rules RateLimitAdmission::ToRules(const std::vector<RateLimitRule>& rules) {
  Rules out;
  for (const auto& r : rules) out[r.name] = Limit(r.rate, r.burst);
  return out;
}

bool RateLimitAdmission::Enabled(const RateLimitConfig& c, bool auth_enabled) {
  return c.per_ip_rate > 0 || c.per_principal_rate > 0 || !c.principals.empty() ||
         !c.scopes.empty() || (auth_enabled && c.failed_auth_rate > 0 && c.failed_auth_burst > 0);
}

RateLimitAdmission::RateLimitAdmission(const RateLimitConfig& config, const Clock& clock,
                                       MetricsRegistry& metrics)
    : config_(config),
      exempt_(config.exempt_routes.begin(), config.exempt_routes.end()),
      principals_(ToRules(config.principals)),
      scopes_(ToRules(config.scopes)),
      limiter_(clock, config.max_keys),
      limited_(metrics.AddCounter("closedloop_rate_limited_total",
                                  "Requests refused with 429 by the rate limits, by route and "
                                  "reason (ip, principal, failed_auth).",
                                  {"route", "reason"})) {}

RateLimit RateLimitAdmission::PrincipalLimit(const RequestContext& ctx) const {
  if (auto it = principals_.find(std::string_view(ctx.principal)); it != principals_.end()) {
    return it->second;
  }
  RateLimit best{0, 0};
  for (const std::string& scope : ctx.principal_scopes) {
    auto it = scopes_.find(std::string_view(scope));
    if (it != scopes_.end() && it->second.rate > best.rate) best = it->second;
  }
  if (best.rate > 0) return best;
  return Limit(config_.per_principal_rate, config_.per_principal_burst);
}

void RateLimitAdmission::Refuse(RequestContext& ctx, std::string_view route, const RateDecision& d,
                                std::string_view who, double rate, const char* reason) {
  limited_->Labels({route, reason}).Inc();
  char message[320];
  if (std::string_view(reason) == "failed_auth") {
    std::snprintf(message, sizeof message,
                  "too many failed authentication attempts from %.*s; retry in %lld s",
                  static_cast<int>(who.size()), who.data(),
                  static_cast<long long>(d.retry_after_seconds));
  } else {
    std::snprintf(message, sizeof message,
                  "rate limit exceeded for %s %.*s: %g requests per second, burst %lld; "
                  "retry in %lld s",
                  std::string_view(reason) == "principal" ? "principal" : "client",
                  static_cast<int>(who.size()), who.data(), rate, static_cast<long long>(d.limit),
                  static_cast<long long>(d.retry_after_seconds));
  }
  ctx.Json(429, ErrorBody(message));
  ctx.headers.emplace_back("Retry-After", std::to_string(d.retry_after_seconds));
}

bool RateLimitAdmission::Admit(RequestContext& ctx, std::string_view route,
                               std::string_view client_ip) {
  if (exempt_.count(route) > 0) return true;
  RateLimit limit{0, 0};
  const char* reason = "ip";
  std::string_view who = client_ip;
  if (!ctx.principal.empty()) {
    limit = PrincipalLimit(ctx);
    if (limit.rate > 0) {
      reason = "principal";
      who = ctx.principal;
    }
  }
  if (limit.rate <= 0) limit = Limit(config_.per_ip_rate, config_.per_ip_burst);
  if (limit.rate <= 0) return true;
  Key key(reason[0] == 'p' ? "p:" : "ip:", who);
  RateDecision d = limiter_.Acquire(key.view(), limit);
  ctx.headers.reserve(ctx.headers.size() + 4);  // and, for a forwarded answer, the replica's
  ctx.headers.emplace_back("RateLimit-Limit", std::to_string(d.limit));
  ctx.headers.emplace_back("RateLimit-Remaining", std::to_string(d.remaining));
  ctx.headers.emplace_back("RateLimit-Reset", std::to_string(d.reset_seconds));
  if (d.allowed) return true;
  Refuse(ctx, route, d, who, limit.rate, reason);
  return false;
}

void RateLimitAdmission::OnAuthFailure(std::string_view client_ip) {
  if (config_.failed_auth_rate <= 0) return;
  Key key("fail:", client_ip);
  limiter_.Acquire(key.view(), Limit(config_.failed_auth_rate, config_.failed_auth_burst));
}

bool RateLimitAdmission::FailedAuthCheck::Admit(RequestContext& ctx, std::string_view route,
                                                std::string_view client_ip) {
  const RateLimitConfig& c = owner_.config_;
  if (c.failed_auth_rate <= 0 || owner_.exempt_.count(route) > 0) return true;
  Key key("fail:", client_ip);
  RateDecision d = owner_.limiter_.Peek(key.view(), Limit(c.failed_auth_rate, c.failed_auth_burst));
  if (d.allowed) return true;
  owner_.Refuse(ctx, route, d, client_ip, c.failed_auth_rate, "failed_auth");
  return false;
}

}  // namespace closedloop
