// JwtVerifier: checks `Authorization: Bearer <JWT>` tokens with libjwt.
//
// Keys come from files named in [auth]: an HS256 shared secret, an RS256 public
// key (PEM) and/or an ES256 public key (PEM). The token's header `alg` must be
// one of the configured algorithms and selects the key — so `alg: none` and
// algorithm confusion (an HS256 token "signed" with the RSA public key as the
// HMAC secret) are refused before any signature check. Claims: `exp` is
// required, `nbf` honoured, both with `leeway_s`; `iss` and `aud` (string or
// array) must match when configured. Scopes come from `scope` (space-separated)
// or `scp` (array). Tokens over 8 KiB are refused unread.
//
// Thread safety: Verify is const and safe from any thread (libjwt objects are
// per call). Time from the injected Clock.
#pragma once

#include <string>
#include <string_view>

#include "auth/principal.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/status.h"

namespace closedloop {

class JwtVerifier {
 public:
  // Reads the key files; InvalidArgument/NotFound naming the file when one is bad.
  // `clock` must outlive the verifier.
  static StatusOr<JwtVerifier> Create(const AuthConfig& config, const Clock& clock);
  bool enabled() const { return !hs256_.empty() || !rs256_.empty() || !es256_.empty(); }

  // Unauthenticated (with the reason) when the token is not acceptable.
  StatusOr<Principal> Verify(std::string_view token) const;

 private:
  JwtVerifier(const AuthConfig& config, const Clock& clock) : config_(config), clock_(&clock) {}
  AuthConfig config_;
  const Clock* clock_;
  std::string hs256_, rs256_, es256_;  // key bytes
};

// Where `closedloop token create` keeps the data dir's HS256 secret (0600).
std::string DefaultJwtSecretPath(const std::string& data_dir);

// Signs an HS256 token (the `token create` command; tests).
StatusOr<std::string> SignHs256(const std::string& secret, const std::string& subject,
                                const std::vector<std::string>& scopes, int64_t ttl_seconds,
                                const std::string& issuer, const std::string& audience,
                                const Clock& clock);

}  // namespace closedloop
