#include "core/ulid.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>

namespace closedloop {
namespace {

TEST(UlidTest, EncodesTimestampAndSortsByTime) {
  FakeClock clock(1'795'321'546'867);
  UlidGenerator ids(clock);
  std::string a = ids.Next();
  ASSERT_EQ(a.size(), 26u);
  EXPECT_EQ(UlidGenerator::TimestampOf(a), 1'795'321'546'867u);
  clock.Advance(std::chrono::milliseconds(1));
  std::string b = ids.Next();
  EXPECT_LT(a, b);
  EXPECT_EQ(UlidGenerator::TimestampOf(b), 1'795'321'546'868u);
}

TEST(UlidTest, KnownEncoding) {
  // Independent computation: 1795321546867 in Crockford base32 over 10 chars.
  std::array<uint8_t, 10> zero{};
  EXPECT_EQ(UlidGenerator::Encode(1'795'321'546'867, zero), "01M80R1J3K0000000000000000");
  std::array<uint8_t, 10> ones;
  ones.fill(0xff);
  EXPECT_EQ(UlidGenerator::Encode(0, ones).substr(10), "ZZZZZZZZZZZZZZZZ");
}

TEST(UlidTest, MonotonicWithinOneMillisecond) {
  FakeClock clock;
  UlidGenerator ids(clock);
  std::string prev = ids.Next();
  for (int i = 0; i < 10000; ++i) {
    std::string next = ids.Next();
    ASSERT_LT(prev, next);
    prev = next;
  }
}

TEST(UlidTest, UniqueAcrossThreads) {
  const Clock& clock = SystemClock::Get();
  UlidGenerator ids(clock);
  std::vector<std::vector<std::string>> per(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5000; ++i) per[t].push_back(ids.Next());
    });
  }
  for (auto& t : threads) t.join();
  std::set<std::string> all;
  for (auto& v : per) all.insert(v.begin(), v.end());
  EXPECT_EQ(all.size(), 20000u);
}

TEST(UlidTest, RejectsMalformed) {
  EXPECT_FALSE(UlidGenerator::TimestampOf("short"));
  EXPECT_FALSE(UlidGenerator::TimestampOf("01M80R1J3K000000000000000U"));  // U is not base32
  EXPECT_FALSE(UlidGenerator::TimestampOf("81M80R1J3K0000000000000000"));  // overflows
}

}  // namespace
}  // namespace closedloop
