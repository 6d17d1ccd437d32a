// JWT verification: HS256, RS256 and ES256 accepted with the configured keys; the
// bad-token corpus (expired, not yet valid, wrong signature, audience, issuer,
// alg none, algorithm confusion, truncated, garbage, oversized) refused.
#include "auth/jwt_verifier.h"

#include <gtest/gtest.h>
#include <jwt.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

#include <fstream>

#include "support/temp_dir.h"

namespace closedloop {
namespace {

const std::string kSecret = "0123456789abcdef0123456789abcdef-test-secret";

std::string Pem(EVP_PKEY* key, bool is_private) {
  BIO* bio = BIO_new(BIO_s_mem());
  if (is_private) {
    PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  } else {
    PEM_write_bio_PUBKEY(bio, key);
  }
  char* data = nullptr;
  long n = BIO_get_mem_data(bio, &data);
  std::string out(data, static_cast<size_t>(n));
  BIO_free(bio);
  return out;
}

std::string B64Url(const std::string& in) {
  static constexpr char k[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : in) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += k[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += k[(acc << (6 - bits)) & 63];
  return out;
}

// A token with these claims signed by libjwt with `alg` and `key`.
std::string Sign(jwt_alg_t alg, const std::string& key, const std::string& claims_json) {
  jwt_t* jwt = nullptr;
  jwt_new(&jwt);
  jwt_add_grants_json(jwt, claims_json.c_str());
  jwt_set_alg(jwt, alg, reinterpret_cast<const unsigned char*>(key.data()),
              static_cast<int>(key.size()));
  char* s = jwt_encode_str(jwt);
  std::string out = s ? s : "";
  free(s);
  jwt_free(jwt);
  return out;
}

class JwtVerifierTest : public ::testing::Test {
 protected:
  void SetUp() override {
    EVP_PKEY* rsa = EVP_PKEY_Q_keygen(nullptr, nullptr, "RSA", static_cast<size_t>(2048));
    EVP_PKEY* ec = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
    ASSERT_TRUE(rsa && ec);
    rsa_private_ = Pem(rsa, true);
    rsa_public_ = Pem(rsa, false);
    ec_private_ = Pem(ec, true);
    ec_public_ = Pem(ec, false);
    EVP_PKEY_free(rsa);
    EVP_PKEY_free(ec);
    std::ofstream(dir_.File("hs.key")) << kSecret;
    std::ofstream(dir_.File("rs.pem")) << rsa_public_;
    std::ofstream(dir_.File("es.pem")) << ec_public_;
  }
  JwtVerifier Verifier(bool hs, bool rs, bool es) {
    AuthConfig c;
    if (hs) c.jwt_hs256_secret_file = dir_.File("hs.key");
    if (rs) c.jwt_rs256_public_key_file = dir_.File("rs.pem");
    if (es) c.jwt_es256_public_key_file = dir_.File("es.pem");
    auto v = JwtVerifier::Create(c, clock_);
    EXPECT_TRUE(v.ok()) << v.status().message();
    return std::move(v).value();
  }
  std::string Claims(const std::string& extra = "") {
    int64_t now = clock_.NowUnixMillis() / 1000;
    return R"({"sub":"alice","scope":"predict feedback","iss":"closedloop","aud":"closedloop",)"
           R"("exp":)" +
           std::to_string(now + 600) + extra + "}";
  }
  FakeClock clock_;
  testing::TempDir dir_;
  std::string rsa_private_, rsa_public_, ec_private_, ec_public_;
};

TEST_F(JwtVerifierTest, AcceptsEachConfiguredAlgorithm) {
  JwtVerifier v = Verifier(true, true, true);
  for (auto [alg, key] : {std::pair{JWT_ALG_HS256, kSecret}, std::pair{JWT_ALG_RS256, rsa_private_},
                          std::pair{JWT_ALG_ES256, ec_private_}}) {
    auto p = v.Verify(Sign(alg, key, Claims()));
    ASSERT_TRUE(p.ok()) << jwt_alg_str(alg) << ": " << p.status().message();
    EXPECT_EQ(p->subject, "alice");
    EXPECT_EQ(p->scopes, (std::vector<std::string>{"predict", "feedback"}));
    EXPECT_TRUE(p->HasScope("predict"));
    EXPECT_FALSE(p->HasScope("admin"));
  }
  // Our own signer, audience as an array, scopes as `scp`.
  auto ours = SignHs256(kSecret, "bob", {"admin"}, 60, "closedloop", "closedloop", clock_);
  ASSERT_TRUE(ours.ok());
  auto bob = v.Verify(*ours);
  ASSERT_TRUE(bob.ok()) << bob.status().message();
  EXPECT_TRUE(bob->HasScope("label"));  // admin implies every scope
  int64_t now = clock_.NowUnixMillis() / 1000;
  auto arr = v.Verify(Sign(JWT_ALG_HS256, kSecret,
                           R"({"sub":"c","scp":["metrics"],"iss":"closedloop","aud":["x",)"
                           R"("closedloop"],"exp":)" +
                               std::to_string(now + 60) + "}"));
  ASSERT_TRUE(arr.ok()) << arr.status().message();
  EXPECT_TRUE(arr->HasScope("metrics"));
}

TEST_F(JwtVerifierTest, BadTokensAreRefused) {
  JwtVerifier v = Verifier(true, true, false);
  int64_t now = clock_.NowUnixMillis() / 1000;
  auto claims = [&](const std::string& exp_nbf, const std::string& iss = "closedloop",
                    const std::string& aud = "closedloop") {
    return R"({"sub":"alice","scope":"predict","iss":")" + iss + R"(","aud":")" + aud + R"(",)" +
           exp_nbf + "}";
  };
  const std::string good = Sign(JWT_ALG_HS256, kSecret, Claims());
  const std::string none_token =
      B64Url(R"({"alg":"none","typ":"JWT"})") + "." + B64Url(Claims()) + ".";
  struct Case {
    std::string name, token, reason;
  };
  std::vector<Case> cases = {
      {"expired", Sign(JWT_ALG_HS256, kSecret, claims(R"("exp":)" + std::to_string(now - 31))),
       "expired"},
      {"not yet valid",
       Sign(JWT_ALG_HS256, kSecret,
            claims(R"("exp":)" + std::to_string(now + 600) + R"(,"nbf":)" +
                   std::to_string(now + 120))),
       "not valid yet"},
      {"no exp", Sign(JWT_ALG_HS256, kSecret, claims(R"("iat":1)")), "'exp'"},
      {"wrong signature", Sign(JWT_ALG_HS256, "another-secret-another-secret-12345", Claims()),
       "signature"},
      {"wrong audience",
       Sign(JWT_ALG_HS256, kSecret,
            claims(R"("exp":)" + std::to_string(now + 600), "closedloop", "someone-else")),
       "audience"},
      {"wrong issuer",
       Sign(JWT_ALG_HS256, kSecret, claims(R"("exp":)" + std::to_string(now + 600), "evil")),
       "issuer"},
      {"alg none", none_token, "'none'"},
      // HS256 "signed" with the RSA public key as the HMAC secret.
      {"alg confusion", Sign(JWT_ALG_HS256, rsa_public_, Claims()), "signature"},
      {"truncated", good.substr(0, good.size() - 10), "signature"},
      {"no dots", "abcdef", "not a JWT"},
      {"garbage base64", "!!!.???.###", "base64url"},
      {"header not json", B64Url("not json") + "." + B64Url(Claims()) + ".sig", "'alg'"},
      {"100 KB", std::string(100 * 1024, 'a'), "longer than"},
      {"RS384 not configured", B64Url(R"({"alg":"RS384"})") + "." + B64Url(Claims()) + ".c2ln",
       "'RS384'"},
  };
  for (const auto& c : cases) {
    auto p = v.Verify(c.token);
    ASSERT_FALSE(p.ok()) << c.name;
    EXPECT_EQ(p.status().code(), StatusCode::kUnauthenticated) << c.name;
    EXPECT_NE(p.status().message().find(c.reason), std::string::npos)
        << c.name << ": " << p.status().message();
  }
  // With only RS256 configured, an HS256 token signed with the public key is refused
  // before any signature check.
  JwtVerifier rs_only = Verifier(false, true, false);
  auto confused = rs_only.Verify(Sign(JWT_ALG_HS256, rsa_public_, Claims()));
  ASSERT_FALSE(confused.ok());
  EXPECT_NE(confused.status().message().find("'HS256' is not accepted"), std::string::npos);
  // Leeway: 20 s past exp is still fine with the default 30 s.
  EXPECT_TRUE(
      v.Verify(Sign(JWT_ALG_HS256, kSecret, claims(R"("exp":)" + std::to_string(now - 20)))).ok());
}

TEST_F(JwtVerifierTest, KeyFilesAreCheckedAtStart) {
  AuthConfig c;
  c.jwt_hs256_secret_file = dir_.File("missing.key");
  EXPECT_EQ(JwtVerifier::Create(c, clock_).status().code(), StatusCode::kNotFound);
  std::ofstream(dir_.File("short.key")) << "short";
  c.jwt_hs256_secret_file = dir_.File("short.key");
  auto s = JwtVerifier::Create(c, clock_);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("at least 32 bytes"), std::string::npos);
}

}  // namespace
}  // namespace closedloop
