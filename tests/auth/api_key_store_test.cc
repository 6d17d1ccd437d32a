// API keys: shown once, stored only as salted hashes, found by prefix, revocable.
#include "auth/api_key_store.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace closedloop
