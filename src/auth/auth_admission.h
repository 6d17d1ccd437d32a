// AuthAdmission: authentication and scopes in front of the routes ([auth]).
//
// Credentials: `Authorization: Bearer <JWT>` (JwtVerifier), `Authorization:
// Bearer clk_...` or `X-Api-Key: clk_...` (ApiKeyStore). Each route needs one
// scope (RequiredScope): predict, feedback, label, metrics or admin (admin
// implies every scope). `/v2/health/*` needs nothing; `/metrics` needs nothing
// with public_metrics. Missing or invalid credentials: 401 with
// `WWW-Authenticate: Bearer realm="closedloop"` (plus error="invalid_token" and a
// description when a credential was given); a missing scope: 403 with
// error="insufficient_scope" and the scope. The principal's subject is set on the
// request context for handlers and logs.
//
// The console signs in by cookie (ui/ui_routes.h): `closedloop_session` carries
// the token when no header does. A state-changing call (not GET/HEAD/OPTIONS)
// authenticated by that cookie must also send the `closedloop_csrf` cookie's value
// in `X-CSRF-Token`, else 403.
//
// Thread safety: Admit from any thread (JwtVerifier is const; ApiKeyStore locks).
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "auth/api_key_store.h"
#include "auth/jwt_verifier.h"
#include "core/config.h"
#include "http/admission.h"
#include "monitor/metrics.h"

namespace closedloop {

class AuthAdmission final : public Admission {
 public:
  // `keys` and `metrics` must outlive the admission.
  AuthAdmission(const AuthConfig& config, JwtVerifier jwt, ApiKeyStore& keys,
                MetricsRegistry& metrics);
  bool Admit(RequestContext& ctx, std::string_view route, std::string_view client_ip) override;
  // Before serving: called with the client's address on every invalid credential
  // (failed-auth throttling); from io threads, must not block.
  void SetFailureListener(std::function<void(std::string_view client_ip)> listener);

  // "" for public routes. `route` is a route pattern or, behind a catch-all route
  // (the gateway), the request's path: both give the same scope.
  static std::string_view RequiredScope(std::string_view route, bool public_metrics);

  // An API key (clk_...) or a JWT, checked as a credential header would be.
  StatusOr<Principal> VerifyToken(std::string_view token) const;

  static constexpr std::string_view kSessionCookie = "closedloop_session";
  static constexpr std::string_view kCsrfCookie = "closedloop_csrf";

 private:
  StatusOr<Principal> Authenticate(const HttpRequest& req, bool& via_cookie);
  const AuthConfig config_;
  const JwtVerifier jwt_;
  ApiKeyStore& keys_;
  Family<Counter>* failures_;
  std::function<void(std::string_view)> on_failure_;
};

// The admission of a process with [auth] enabled and the API key store it reads
// (<data_dir>/auth.db); the HS256 secret defaults to the data dir's when it exists.
struct AuthStack {
  std::unique_ptr<ApiKeyStore> keys;
  std::unique_ptr<AuthAdmission> admission;  // uses *keys: destroy it first
};
StatusOr<AuthStack> BuildAuth(const Config& config, const Clock& clock, MetricsRegistry& metrics);

}  // namespace closedloop
