// W3C traceparent: the spec's valid and invalid forms, formatting, random ids.
#include "core/trace_context.h"

#include <gtest/gtest.h>

#include <set>

namespace closedloop {
namespace {

TEST(TraceparentTest, ParsesTheSpecExample) {
  auto t = ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01");
  ASSERT_TRUE(t);
  EXPECT_EQ(View(t->trace_id), "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(View(t->parent_id), "00f067aa0ba902b7");
  EXPECT_TRUE(t->sampled);
  auto unsampled = ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00");
  ASSERT_TRUE(unsampled);
  EXPECT_FALSE(unsampled->sampled);
  // Other flag bits do not hide the sampled bit.
  EXPECT_TRUE(ParseTraceparent("00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-03")->sampled);
}

TEST(TraceparentTest, RejectsInvalidHeaders) {
  for (const char* bad : {
           "", "garbage",
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // version ff
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",    // zero trace id
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",    // zero parent id
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",    // upper case
           "00-4bf92f3577b34da6a3ce929d0e0e473-00f067aa0ba902b7-01",     // short trace id
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",  // v00 with extra
           "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // separator
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902g7-01",    // not hex
       }) {
    EXPECT_FALSE(ParseTraceparent(bad)) << bad;
  }
}

TEST(TraceparentTest, FutureVersionsKeepTheirFirstFields) {
  auto t = ParseTraceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-what-ever");
  ASSERT_TRUE(t);
  EXPECT_EQ(View(t->parent_id), "00f067aa0ba902b7");
  EXPECT_FALSE(ParseTraceparent("cc-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01x"));
}

TEST(TraceparentTest, FormatRoundTripsAndIdsAreRandomHex) {
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    TraceId trace = RandomTraceId();
    SpanId span = RandomSpanId();
    std::string header = FormatTraceparent(trace, span, i % 2 == 0);
    auto back = ParseTraceparent(header);
    ASSERT_TRUE(back) << header;
    EXPECT_EQ(back->trace_id, trace);
    EXPECT_EQ(back->parent_id, span);
    EXPECT_EQ(back->sampled, i % 2 == 0);
    seen.insert(std::string(View(trace)));
  }
  EXPECT_EQ(seen.size(), 1000u);
  double sum = 0;
  for (int i = 0; i < 10000; ++i) {
    double u = RandomUnit();
    ASSERT_GE(u, 0);
    ASSERT_LT(u, 1);
    sum += u;
  }
  EXPECT_NEAR(sum / 10000, 0.5, 0.02);
}

}  // namespace
}  // namespace closedloop
