// API keys: shown once, stored only as salted hashes, found by prefix, revocable.
#include "auth/api_key_store.h"

#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "support/temp_dir.h"

namespace closedloop {
namespace {

TEST(ApiKeyStoreTest, CreateVerifyListRevoke) {
  testing::TempDir dir;
  FakeClock clock;
  auto store = ApiKeyStore::Open(dir.File("auth.db"), clock);
  ASSERT_TRUE(store.ok()) << store.status().message();
  ApiKeyInfo info;
  auto key = (*store)->Create("billing-service", {"predict", "feedback"}, &info);
  ASSERT_TRUE(key.ok()) << key.status().message();
  EXPECT_EQ(key->size(), 4u + 12 + 1 + 40);
  EXPECT_EQ(key->substr(0, 4), "clk_");
  EXPECT_EQ(key->substr(4, 12), info.prefix);

  auto p = (*store)->Verify(*key);
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_EQ(p->subject, "billing-service");
  EXPECT_EQ(p->kind, "api_key");
  EXPECT_EQ(p->key_id, info.id);
  EXPECT_TRUE(p->HasScope("feedback"));
  EXPECT_FALSE(p->HasScope("admin"));
  // Cached verification still checks the secret.
  std::string wrong = *key;
  wrong.back() = wrong.back() == 'a' ? 'b' : 'a';
  EXPECT_EQ((*store)->Verify(wrong).status().code(), StatusCode::kUnauthenticated);
  EXPECT_TRUE((*store)->Verify(*key).ok());
  EXPECT_FALSE((*store)->Verify("clk_short").ok());
  EXPECT_FALSE((*store)->Verify("clk_AAAAAAAAAAAA_" + std::string(40, 'x')).ok());  // unknown

  // The secret is nowhere in the database file.
  std::string db_bytes = testing::ReadFile(dir.File("auth.db"));
  std::string wal = testing::ReadFile(dir.File("auth.db-wal"));
  const std::string secret = key->substr(17);
  EXPECT_EQ(db_bytes.find(secret), std::string::npos);
  EXPECT_EQ(wal.find(secret), std::string::npos);

  auto list = (*store)->List();
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ((*list)[0].name, "billing-service");
  EXPECT_EQ((*list)[0].revoked_ms, 0);

  ASSERT_TRUE((*store)->Revoke(info.prefix).ok());
  auto revoked = (*store)->Verify(*key);
  ASSERT_FALSE(revoked.ok());
  EXPECT_NE(revoked.status().message().find("revoked"), std::string::npos);
  EXPECT_EQ((*store)->Revoke(info.id).code(), StatusCode::kNotFound);  // already revoked

  EXPECT_EQ((*store)->Create("x", {"root"}).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*store)->Create("", {"predict"}).status().code(), StatusCode::kInvalidArgument);
}

// Verified keys are copied per thread (no lock on the request path); a copy
// never outlives the shared cache entry it came from, so a revocation by another
// process (here another store on the same file) takes effect within cache_ms,
// and one in this process at once, on every thread.
TEST(ApiKeyStoreTest, PerThreadCopiesExpireWithTheSharedCacheAndOnRevocation) {
  testing::TempDir dir;
  FakeClock clock;
  auto store = ApiKeyStore::Open(dir.File("auth.db"), clock, 1000);
  auto other = ApiKeyStore::Open(dir.File("auth.db"), clock, 1000);  // "the CLI"
  ASSERT_TRUE(store.ok() && other.ok());
  ApiKeyInfo a_info;
  auto a = (*store)->Create("a", {"predict"}, &a_info);
  auto b = (*store)->Create("b", {"predict"});
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*store)->Verify(*a).ok());  // now cached, shared and on this thread
  ASSERT_TRUE((*other)->Revoke(a_info.prefix).ok());
  clock.Advance(std::chrono::milliseconds(600));
  EXPECT_TRUE((*store)->Verify(*a).ok());  // within cache_ms: the cached verification
  {
    // A thread that copies the shared entry late (at 600 ms) holds it no longer.
    std::promise<bool> copied, later;
    std::promise<void> advanced;
    std::thread worker([&] {
      copied.set_value((*store)->Verify(*a).ok());
      advanced.get_future().wait();
      later.set_value((*store)->Verify(*a).ok());
    });
    EXPECT_TRUE(copied.get_future().get());
    clock.Advance(std::chrono::milliseconds(500));
    advanced.set_value();
    EXPECT_FALSE(later.get_future().get());
    worker.join();
  }
  auto after = (*store)->Verify(*a);  // the shared entry expired, and the copy with it
  ASSERT_FALSE(after.ok());
  EXPECT_NE(after.status().message().find("revoked"), std::string::npos);

  // Revoked in this process: refused at once, also on a thread that had a copy.
  ASSERT_TRUE((*store)->Verify(*b).ok());
  std::promise<bool> before, after_revoke;
  std::promise<void> revoked;
  std::thread worker([&] {  // verifies (making its copy), then again after the revocation
    before.set_value((*store)->Verify(*b).ok());
    revoked.get_future().wait();
    after_revoke.set_value((*store)->Verify(*b).ok());
  });
  EXPECT_TRUE(before.get_future().get());
  ASSERT_TRUE((*store)->Revoke(b->substr(4, 12)).ok());
  revoked.set_value();
  EXPECT_FALSE((*store)->Verify(*b).ok());
  EXPECT_FALSE(after_revoke.get_future().get());
  worker.join();
}

}  // namespace
}  // namespace closedloop
