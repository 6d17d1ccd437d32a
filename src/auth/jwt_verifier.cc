#include "auth/jwt_verifier.h"

#include <jwt.h>
#include <simdjson.h>

#include <fstream>
#include <memory>
#include <sstream>

namespace closedloop {

namespace {

constexpr size_t kMaxTokenBytes = 8192;

struct JwtFree {
  void operator()(jwt_t* j) const { jwt_free(j); }
};
using JwtPtr = std::unique_ptr<jwt_t, JwtFree>;

StatusOr<std::string> ReadKeyFile(const std::string& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound(std::string("[auth] ") + what + " '" + path + "' cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  std::string key = ss.str();
  if (key.empty())
    return InvalidArgument(std::string("[auth] ") + what + " '" + path + "' is empty");
  return key;
}

// base64url without padding -> bytes; nullopt when malformed.
std::optional<std::string> Base64UrlDecode(std::string_view in) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '-') return 62;
    if (c == '_') return 63;
    return -1;
  };
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = value(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
  }
  if (bits >= 6) return std::nullopt;  // a dangling character
  return out;
}

}  // namespace

const std::vector<std::string>& KnownScopes() {
  static const std::vector<std::string> kScopes = {"predict", "feedback", "label", "metrics",
                                                   "admin"};
  return kScopes;
}

StatusOr<JwtVerifier> JwtVerifier::Create(const AuthConfig& config, const Clock& clock) {
  JwtVerifier v(config, clock);
  if (!config.jwt_hs256_secret_file.empty()) {
    ASSIGN_OR_RETURN(v.hs256_, ReadKeyFile(config.jwt_hs256_secret_file, "jwt_hs256_secret_file"));
    if (v.hs256_.size() < 32) {
      return InvalidArgument("[auth] the HS256 secret in '" + config.jwt_hs256_secret_file +
                             "' must be at least 32 bytes");
    }
  }
  if (!config.jwt_rs256_public_key_file.empty()) {
    ASSIGN_OR_RETURN(v.rs256_,
                     ReadKeyFile(config.jwt_rs256_public_key_file, "jwt_rs256_public_key_file"));
  }
  if (!config.jwt_es256_public_key_file.empty()) {
    ASSIGN_OR_RETURN(v.es256_,
                     ReadKeyFile(config.jwt_es256_public_key_file, "jwt_es256_public_key_file"));
  }
  return v;
}

StatusOr<Principal> JwtVerifier::Verify(std::string_view token) const {
  if (token.size() > kMaxTokenBytes) {
    return Unauthenticated("token is longer than " + std::to_string(kMaxTokenBytes) + " bytes");
  }
  size_t dot = token.find('.');
  if (dot == std::string_view::npos || token.find('.', dot + 1) == std::string_view::npos) {
    return Unauthenticated("token is not a JWT (header.payload.signature)");
  }
  auto header = Base64UrlDecode(token.substr(0, dot));
  if (!header) return Unauthenticated("token header is not base64url");
  simdjson::dom::parser parser;
  simdjson::dom::element h;
  std::string_view alg;
  if (parser.parse(*header).get(h) || h["alg"].get(alg)) {
    return Unauthenticated("token header has no 'alg'");
  }
  // The algorithm picks the key; anything not configured (none, confusion) is refused.
  const std::string* key = nullptr;
  jwt_alg_t expected = JWT_ALG_INVAL;
  if (alg == "HS256" && !hs256_.empty()) {
    key = &hs256_;
    expected = JWT_ALG_HS256;
  } else if (alg == "RS256" && !rs256_.empty()) {
    key = &rs256_;
    expected = JWT_ALG_RS256;
  } else if (alg == "ES256" && !es256_.empty()) {
    key = &es256_;
    expected = JWT_ALG_ES256;
  } else {
    return Unauthenticated("token algorithm '" + std::string(alg) + "' is not accepted");
  }
  std::string nul_terminated(token);
  jwt_t* raw = nullptr;
  if (jwt_decode(&raw, nul_terminated.c_str(), reinterpret_cast<const unsigned char*>(key->data()),
                 static_cast<int>(key->size())) != 0 ||
      raw == nullptr) {
    return Unauthenticated("token signature is not valid");
  }
  JwtPtr jwt(raw);
  if (jwt_get_alg(jwt.get()) != expected) return Unauthenticated("token algorithm mismatch");

  char* claims_json = jwt_get_grants_json(jwt.get(), nullptr);
  if (claims_json == nullptr) return Unauthenticated("token has no claims");
  std::string claims_text(claims_json);
  free(claims_json);
  simdjson::dom::element claims;
  if (parser.parse(claims_text).get(claims)) return Unauthenticated("token claims are not JSON");

  const int64_t now = clock_->NowUnixMillis() / 1000;
  int64_t exp = 0, nbf = 0;
  if (claims["exp"].get(exp)) return Unauthenticated("token has no 'exp'");
  if (now > exp + config_.leeway_s) return Unauthenticated("token expired");
  if (!claims["nbf"].get(nbf) && now + config_.leeway_s < nbf) {
    return Unauthenticated("token is not valid yet ('nbf')");
  }
  if (!config_.issuer.empty()) {
    std::string_view iss;
    if (claims["iss"].get(iss) || iss != config_.issuer) {
      return Unauthenticated("token issuer is not '" + config_.issuer + "'");
    }
  }
  if (!config_.audience.empty()) {
    bool match = false;
    std::string_view aud;
    simdjson::dom::array auds;
    if (!claims["aud"].get(aud)) {
      match = aud == config_.audience;
    } else if (!claims["aud"].get(auds)) {
      for (auto a : auds) {
        std::string_view s;
        match = match || (!a.get(s) && s == config_.audience);
      }
    }
    if (!match) return Unauthenticated("token audience is not '" + config_.audience + "'");
  }
  Principal p;
  p.kind = "jwt";
  std::string_view sub;
  if (claims["sub"].get(sub) || sub.empty()) return Unauthenticated("token has no 'sub'");
  p.subject = std::string(sub);
  std::string_view scope;
  simdjson::dom::array scp;
  if (!claims["scope"].get(scope)) {
    std::istringstream words{std::string(scope)};
    for (std::string w; words >> w;) p.scopes.push_back(w);
  } else if (!claims["scp"].get(scp)) {
    for (auto s : scp) {
      std::string_view v;
      if (!s.get(v)) p.scopes.emplace_back(v);
    }
  }
  return p;
}

std::string DefaultJwtSecretPath(const std::string& data_dir) {
  return data_dir + "/auth/jwt-hs256.key";
}

StatusOr<std::string> SignHs256(const std::string& secret, const std::string& subject,
                                const std::vector<std::string>& scopes, int64_t ttl_seconds,
                                const std::string& issuer, const std::string& audience,
                                const Clock& clock) {
  jwt_t* raw = nullptr;
  if (jwt_new(&raw) != 0) return Internal("jwt_new failed");
  JwtPtr jwt(raw);
  const int64_t now = clock.NowUnixMillis() / 1000;
  std::string scope;
  for (const auto& s : scopes) scope += (scope.empty() ? "" : " ") + s;
  if (jwt_add_grant(jwt.get(), "sub", subject.c_str()) != 0 ||
      jwt_add_grant(jwt.get(), "scope", scope.c_str()) != 0 ||
      jwt_add_grant_int(jwt.get(), "iat", static_cast<long>(now)) != 0 ||
      jwt_add_grant_int(jwt.get(), "exp", static_cast<long>(now + ttl_seconds)) != 0 ||
      (!issuer.empty() && jwt_add_grant(jwt.get(), "iss", issuer.c_str()) != 0) ||
      (!audience.empty() && jwt_add_grant(jwt.get(), "aud", audience.c_str()) != 0)) {
    return Internal("cannot add the token's claims");
  }
  if (jwt_set_alg(jwt.get(), JWT_ALG_HS256, reinterpret_cast<const unsigned char*>(secret.data()),
                  static_cast<int>(secret.size())) != 0) {
    return Internal("cannot set HS256");
  }
  char* out = jwt_encode_str(jwt.get());
  if (out == nullptr) return Internal("cannot encode the token");
  std::string token(out);
  free(out);
  return token;
}

}  // namespace closedloop
