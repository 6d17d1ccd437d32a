#include "auth/api_key_store.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>

#include <atomic>
#include <sstream>

#include "core/sha256.h"
#include "core/ulid.h"
#include "store/migrations.h"

namespace closedloop {

namespace {

constexpr size_t kPrefixLen = 12, kSecretLen = 40;

const std::vector<Migration>& AuthMigrations() {
  static const std::vector<Migration> kMigrations = {
      {1, R"sql(
        CREATE TABLE api_keys (
          id          TEXT PRIMARY KEY,
          prefix      TEXT NOT NULL UNIQUE,
          salt        TEXT NOT NULL,
          hash        TEXT NOT NULL,
          name        TEXT NOT NULL,
          scopes      TEXT NOT NULL,
          created_ms  INTEGER NOT NULL,
          revoked_ms  INTEGER NOT NULL DEFAULT 0
        );
      )sql"},
  };
  return kMigrations;
}

StatusOr<std::string> RandomAlnum(size_t n) {
  static constexpr char kChars[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
  std::string out;
  while (out.size() < n) {
    unsigned char buf[64];
    if (RAND_bytes(buf, sizeof buf) != 1) return Internal("the OS random source failed");
    for (unsigned char b : buf) {
      if (b < 248 && out.size() < n) out.push_back(kChars[b % 62]);  // no modulo bias
    }
  }
  return out;
}

std::string JoinScopes(const std::vector<std::string>& scopes) {
  std::string s;
  for (const auto& x : scopes) s += (s.empty() ? "" : " ") + x;
  return s;
}

std::vector<std::string> SplitScopes(const std::string& s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string w; in >> w;) out.push_back(w);
  return out;
}

std::atomic<uint64_t> next_store_id{1};

// Each io thread's copies of verified keys: the request path finds a key without
// the store's lock, and compares the presented secret with the one that verified
// (constant time) instead of hashing it again. Valid while the store and its
// generation match and until the shared entry they were copied from expires;
// bounded (cleared when full: the shared cache refills it). Only in memory, for
// at most cache_ms, like the requests that carry the key; never written anywhere.
struct ThreadCached {
  uint64_t store_id = 0;
  uint64_t generation = 0;
  std::string secret;
  Principal principal;
  int64_t until_ms = 0;
};
constexpr size_t kMaxThreadCached = 4096;
thread_local std::unordered_map<std::string, ThreadCached> thread_cache;  // by prefix

}  // namespace

StatusOr<std::unique_ptr<ApiKeyStore>> ApiKeyStore::Open(const std::string& path,
                                                         const Clock& clock, int64_t cache_ms) {
  ASSIGN_OR_RETURN(auto db, SqliteDb::Open(path, SqliteDb::Mode::kReadWrite));
  RETURN_IF_ERROR(ApplyMigrations(*db, AuthMigrations()).WithContext("api keys '" + path + "'"));
  return std::unique_ptr<ApiKeyStore>(new ApiKeyStore(std::move(db), clock, cache_ms));
}

StatusOr<std::string> ApiKeyStore::Create(const std::string& name,
                                          const std::vector<std::string>& scopes,
                                          ApiKeyInfo* info) {
  if (name.empty()) return InvalidArgument("an API key needs a name");
  for (const auto& s : scopes) {
    if (std::find(KnownScopes().begin(), KnownScopes().end(), s) == KnownScopes().end()) {
      return InvalidArgument("unknown scope '" + s +
                             "' (scopes: predict, feedback, label, metrics, admin)");
    }
  }
  ASSIGN_OR_RETURN(std::string prefix, RandomAlnum(kPrefixLen));
  ASSIGN_OR_RETURN(std::string secret, RandomAlnum(kSecretLen));
  ASSIGN_OR_RETURN(std::string salt, RandomAlnum(22));
  ApiKeyInfo k;
  k.id = UlidGenerator(clock_).Next();
  k.prefix = prefix;
  k.name = name;
  k.scopes = scopes;
  k.created_ms = clock_.NowUnixMillis();
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto q, db_->Prepare("INSERT INTO api_keys (id, prefix, salt, hash, name, "
                                        "scopes, created_ms) VALUES (?,?,?,?,?,?,?)"));
  q.BindText(1, k.id);
  q.BindText(2, prefix);
  q.BindText(3, salt);
  q.BindText(4, Sha256Hex(salt + secret));
  q.BindText(5, name);
  q.BindText(6, JoinScopes(scopes));
  q.BindInt(7, k.created_ms);
  RETURN_IF_ERROR(q.Step().status());
  if (info != nullptr) *info = k;
  return "clk_" + prefix + "_" + secret;
}

Status ApiKeyStore::Revoke(const std::string& id_or_prefix) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto q, db_->Prepare("UPDATE api_keys SET revoked_ms = ? WHERE (id = ? OR "
                                        "prefix = ?) AND revoked_ms = 0"));
  q.BindInt(1, clock_.NowUnixMillis());
  q.BindText(2, id_or_prefix);
  q.BindText(3, id_or_prefix);
  RETURN_IF_ERROR(q.Step().status());
  if (db_->Changes() == 0) return NotFound("no active API key '" + id_or_prefix + "'");
  cache_.clear();
  generation_.fetch_add(1, std::memory_order_release);  // and every thread's copies
  return OkStatus();
}

StatusOr<std::vector<ApiKeyInfo>> ApiKeyStore::List() {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto q, db_->Prepare("SELECT id, prefix, name, scopes, created_ms, revoked_ms "
                                        "FROM api_keys ORDER BY created_ms, id"));
  std::vector<ApiKeyInfo> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back({q.ColumnText(0), q.ColumnText(1), q.ColumnText(2), SplitScopes(q.ColumnText(3)),
                   q.ColumnInt(4), q.ColumnInt(5)});
  }
  return out;
}

uint64_t ApiKeyStore::NextId() { return next_store_id.fetch_add(1); }

StatusOr<Principal> ApiKeyStore::Verify(std::string_view key) {
  if (key.size() != 4 + kPrefixLen + 1 + kSecretLen || key.substr(0, 4) != "clk_" ||
      key[4 + kPrefixLen] != '_') {
    return Unauthenticated("malformed API key");
  }
  const std::string prefix(key.substr(4, kPrefixLen));
  const std::string_view secret = key.substr(5 + kPrefixLen);
  const int64_t now = clock_.NowUnixMillis();
  const uint64_t generation = generation_.load(std::memory_order_acquire);
  if (auto tl = thread_cache.find(prefix); tl != thread_cache.end() && tl->second.store_id == id_ &&
                                           tl->second.generation == generation &&
                                           tl->second.until_ms >= now) {
    const std::string& known = tl->second.secret;  // same length: the key's format fixes it
    if (known.size() != secret.size() ||
        CRYPTO_memcmp(known.data(), secret.data(), secret.size()) != 0) {
      return Unauthenticated("API key does not match");
    }
    return tl->second.principal;
  }
  int64_t until_ms = 0;  // the shared entry's: a copy never outlives it
  StatusOr<Principal> verified = VerifyShared(prefix, secret, now, until_ms);
  if (verified.ok()) {
    if (thread_cache.size() >= kMaxThreadCached) thread_cache.clear();
    thread_cache.insert_or_assign(
        prefix, ThreadCached{id_, generation, std::string(secret), *verified, until_ms});
  }
  return verified;
}

StatusOr<Principal> ApiKeyStore::VerifyShared(const std::string& prefix, std::string_view secret,
                                              int64_t now, int64_t& until_ms) {
  std::lock_guard lock(mu_);
  auto it = cache_.find(prefix);
  if (it == cache_.end() || it->second.until_ms < now) {
    ASSIGN_OR_RETURN(auto q, db_->Prepare("SELECT id, salt, hash, name, scopes, revoked_ms FROM "
                                          "api_keys WHERE prefix = ?"));
    q.BindText(1, prefix);
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) return Unauthenticated("unknown API key");
    if (q.ColumnInt(5) != 0) return Unauthenticated("API key revoked");
    std::string computed = Sha256Hex(q.ColumnText(1) + std::string(secret));
    std::string stored = q.ColumnText(2);
    if (computed.size() != stored.size() ||
        CRYPTO_memcmp(computed.data(), stored.data(), stored.size()) != 0) {
      return Unauthenticated("API key does not match");
    }
    Cached c;
    c.hash_hex = Sha256Hex(std::string(secret));
    c.principal = {q.ColumnText(3), "api_key", q.ColumnText(0), SplitScopes(q.ColumnText(4))};
    c.until_ms = now + cache_ms_;
    it = cache_.insert_or_assign(prefix, std::move(c)).first;
    until_ms = it->second.until_ms;
    return it->second.principal;
  }
  // Cached: the same secret must be presented (compared as digests, in constant time).
  std::string digest = Sha256Hex(std::string(secret));
  if (CRYPTO_memcmp(digest.data(), it->second.hash_hex.data(), digest.size()) != 0) {
    return Unauthenticated("API key does not match");
  }
  until_ms = it->second.until_ms;
  return it->second.principal;
}

}  // namespace closedloop
