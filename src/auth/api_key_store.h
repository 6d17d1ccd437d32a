// ApiKeyStore: API keys in <data_dir>/auth.db, stored only as salted SHA-256
// hashes and found by their public prefix.
//
// A key reads "clk_<prefix>_<secret>": prefix 12 and secret 40 characters of
// [0-9A-Za-z] from the OS random source. The row keeps the prefix, a random
// 16-byte salt, SHA-256(salt || secret) in hex, the name (the principal's
// subject), the scopes, and created/revoked times. Verification looks the prefix
// up and compares hashes in constant time; revoked keys fail. Verified keys are
// cached for `cache_ms` (so a revocation by another process — the CLI — takes
// effect within that time; in this process at once).
//
// Thread safety: every method from any thread. Each thread keeps its own copies
// of the keys it verified, in memory only (no lock and no hashing on the request
// path; a revocation in this process invalidates them at once); behind them one
// mutex guards the connection and the shared cache, taken only on a thread's
// miss, and the SQLite read only on a shared miss (control-plane rate: once per
// key per cache_ms).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>
#include <vector>

#include "auth/principal.h"
#include "core/clock.h"
#include "core/status.h"
#include "store/sqlite_db.h"

namespace closedloop {

struct ApiKeyInfo {
  std::string id, prefix, name;
  std::vector<std::string> scopes;
  int64_t created_ms = 0, revoked_ms = 0;
};

class ApiKeyStore {
 public:
  static StatusOr<std::unique_ptr<ApiKeyStore>> Open(const std::string& path, const Clock& clock,
                                                     int64_t cache_ms = 5000);
  // Returns the full key — the only time it exists outside the caller's hands.
  StatusOr<std::string> Create(const std::string& name, const std::vector<std::string>& scopes,
                               ApiKeyInfo* info = nullptr);
  Status Revoke(const std::string& id_or_prefix);
  StatusOr<std::vector<ApiKeyInfo>> List();
  // Unauthenticated when the key is malformed, unknown, wrong or revoked.
  StatusOr<Principal> Verify(std::string_view key);

 private:
  ApiKeyStore(std::unique_ptr<SqliteDb> db, const Clock& clock, int64_t cache_ms)
      : db_(std::move(db)), clock_(clock), cache_ms_(cache_ms), id_(NextId()) {}
  static uint64_t NextId();
  // The shared cache and the database (under mu_).
  // `until_ms`: when the shared entry that verified it expires.
  StatusOr<Principal> VerifyShared(const std::string& prefix, std::string_view secret, int64_t now,
                                   int64_t& until_ms);
  struct Cached {
    std::string hash_hex;  // of the secret that verified
    Principal principal;
    int64_t until_ms = 0;
  };
  std::mutex mu_;
  std::unique_ptr<SqliteDb> db_;                   // guarded by mu_
  std::unordered_map<std::string, Cached> cache_;  // by prefix; guarded by mu_
  const Clock& clock_;
  const int64_t cache_ms_;
  const uint64_t id_;                    // tells this store's per-thread copies from another's
  std::atomic<uint64_t> generation_{0};  // bumped by Revoke: older per-thread copies are stale
};

}  // namespace closedloop
