#include "auth/auth_admission.h"

#include <filesystem>

#include <boost/beast/core/string.hpp>

namespace closedloop {

namespace {

bool StartsWith(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

std::string Quoted(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

// The value of cookie `name` in the request's Cookie headers, if any.
std::optional<std::string_view> CookieValue(const HttpRequest& req, std::string_view name) {
  for (auto it = req.find(boost::beast::http::field::cookie);
       it != req.end() && it->name() == boost::beast::http::field::cookie; ++it) {
    std::string_view all = it->value();
    while (!all.empty()) {
      size_t semi = all.find(';');
      std::string_view part = all.substr(0, semi);
      while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
      size_t eq = part.find('=');
      if (eq != std::string_view::npos && part.substr(0, eq) == name) return part.substr(eq + 1);
      if (semi == std::string_view::npos) break;
      all.remove_prefix(semi + 1);
    }
  }
  return std::nullopt;
}

bool ChangesState(boost::beast::http::verb v) {
  using boost::beast::http::verb;
  return v != verb::get && v != verb::head && v != verb::options;
}

}  // namespace

AuthAdmission::AuthAdmission(const AuthConfig& config, JwtVerifier jwt, ApiKeyStore& keys,
                             MetricsRegistry& metrics)
    : config_(config),
      jwt_(std::move(jwt)),
      keys_(keys),
      failures_(metrics.AddCounter("closedloop_auth_failures_total",
                                   "Requests refused by authentication (401) or scope (403).",
                                   {"reason"})) {}

std::string_view AuthAdmission::RequiredScope(std::string_view route, bool public_metrics) {
  if (StartsWith(route, "/v2/health/") || route == "/health") return "";
  if (route == "/ui" || StartsWith(route, "/ui/")) return "";  // pages hold no data
  if (route == "/metrics") return public_metrics ? "" : "metrics";
  if (route == "/v1/slo" || route == "/v1/alerts" || route == "/v1/drift" ||
      route == "/v1/feedback/summary" || route == "/v1/feedback/timeline" ||
      route == "/v1/metrics/history") {
    return "metrics";
  }
  if (route == "/v1/feedback" || route == "/v1/feedback:batch" ||
      StartsWith(route, "/v1/feedback/")) {
    return "feedback";
  }
  if (StartsWith(route, "/v1/support/escalations") || route == "/v1/labeling/queue" ||
      (StartsWith(route, "/v1/labeling/tasks/") && route.ends_with("/annotations"))) {
    return "label";
  }
  if (route == "/v1/predict" || route == "/v1/inference" || route == "/v1/stream" ||
      StartsWith(route, "/v1/predictions/") || route == "/v1/models" || route == "/v2" ||
      route == "/v1/support/inquiries" ||
      (StartsWith(route, "/v2/models/") && !StartsWith(route, "/v2/repository"))) {
    return "predict";
  }
  return "admin";  // registry, tracking, repository, rollouts, retraining
}

StatusOr<Principal> AuthAdmission::VerifyToken(std::string_view token) const {
  if (StartsWith(token, "clk_")) return keys_.Verify(token);
  if (!jwt_.enabled()) return Unauthenticated("JWTs are not accepted (no key configured)");
  return jwt_.Verify(token);
}

StatusOr<Principal> AuthAdmission::Authenticate(const HttpRequest& req, bool& via_cookie) {
  via_cookie = false;
  std::string_view api_key = req["X-Api-Key"];
  std::string_view auth = req[boost::beast::http::field::authorization];
  if (!auth.empty()) {
    if (auth.size() < 7 || !boost::beast::iequals(auth.substr(0, 7), "Bearer ")) {
      return Unauthenticated("the Authorization scheme must be Bearer");
    }
    std::string_view token = auth.substr(7);
    while (!token.empty() && token.front() == ' ') token.remove_prefix(1);
    return VerifyToken(token);
  }
  if (!api_key.empty()) return keys_.Verify(api_key);
  if (auto session = CookieValue(req, kSessionCookie); session && !session->empty()) {
    via_cookie = true;
    return VerifyToken(*session);
  }
  return Unauthenticated("");
}

void AuthAdmission::SetFailureListener(std::function<void(std::string_view)> listener) {
  on_failure_ = std::move(listener);
}

bool AuthAdmission::Admit(RequestContext& ctx, std::string_view route, std::string_view client_ip) {
  std::string_view scope = RequiredScope(route, config_.public_metrics);
  if (scope.empty()) return true;
  bool via_cookie = false;
  auto principal = Authenticate(ctx.request, via_cookie);
  if (!principal.ok()) {
    const std::string why = principal.status().message();
    std::string challenge = "Bearer realm=\"closedloop\"";
    if (!why.empty()) {
      challenge += ", error=\"invalid_token\", error_description=" + Quoted(why);
      failures_->Labels({"invalid"}).Inc();
      if (on_failure_) on_failure_(client_ip);
    } else {
      failures_->Labels({"missing"}).Inc();
    }
    ctx.Json(401, ErrorBody(why.empty() ? "credentials required: send Authorization: Bearer "
                                          "<token> or X-Api-Key"
                                        : "invalid credentials: " + why));
    ctx.headers.emplace_back("WWW-Authenticate", std::move(challenge));
    return false;
  }
  if (!principal->HasScope(std::string(scope))) {
    failures_->Labels({"forbidden"}).Inc();
    ctx.Json(403, ErrorBody("principal '" + principal->subject + "' lacks the scope '" +
                            std::string(scope) + "' that " + std::string(route) + " needs"));
    ctx.headers.emplace_back("WWW-Authenticate",
                             "Bearer realm=\"closedloop\", error=\"insufficient_scope\", scope=\"" +
                                 std::string(scope) + "\"");
    return false;
  }
  if (via_cookie && ChangesState(ctx.request.method())) {
    // Double-submit: only a page of this origin can read the CSRF cookie to echo it.
    auto cookie = CookieValue(ctx.request, kCsrfCookie);
    std::string_view header = ctx.request["X-CSRF-Token"];
    if (!cookie || cookie->empty() || header != *cookie) {
      failures_->Labels({"csrf"}).Inc();
      ctx.Json(403, ErrorBody("CSRF check failed: a call signed in by cookie must send the "
                              "closedloop_csrf cookie's value in the X-CSRF-Token header"));
      return false;
    }
  }
  ctx.principal = std::move(principal->subject);
  ctx.principal_scopes = std::move(principal->scopes);
  return true;
}

StatusOr<AuthStack> BuildAuth(const Config& config, const Clock& clock, MetricsRegistry& metrics) {
  AuthConfig auth = config.auth;
  if (auth.jwt_hs256_secret_file.empty() &&
      std::filesystem::exists(DefaultJwtSecretPath(config.data_dir))) {
    auth.jwt_hs256_secret_file = DefaultJwtSecretPath(config.data_dir);
  }
  ASSIGN_OR_RETURN(JwtVerifier jwt, JwtVerifier::Create(auth, clock));
  AuthStack stack;
  ASSIGN_OR_RETURN(stack.keys, ApiKeyStore::Open(config.data_dir + "/auth.db", clock));
  stack.admission = std::make_unique<AuthAdmission>(auth, std::move(jwt), *stack.keys, metrics);
  return stack;
}

}  // namespace closedloop
