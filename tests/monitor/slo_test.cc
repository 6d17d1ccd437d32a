// SLO arithmetic: windows of the minute series, burn rates, the error budget and
// the workbook's multi-window rules (which fire only when both windows burn).
#include "monitor/slo.h"

#include <gtest/gtest.h>

namespace closedloop {
namespace {

constexpr int64_t kNow = 29'000'000;  // a minute number

TEST(MinuteSeriesTest, WindowsSumTheMinutesEndingNow) {
  MinuteSeries s(100);
  s.Add(kNow, {10, 1});
  s.Add(kNow - 4, {20, 2});
  s.Add(kNow - 5, {40, 4});
  EXPECT_EQ(s.Window(kNow, 5).total, 30);
  EXPECT_EQ(s.Window(kNow, 5).bad, 3);
  EXPECT_EQ(s.Window(kNow, 6).total, 70);
  EXPECT_EQ(s.Window(kNow, 1).total, 10);
  EXPECT_EQ(s.Window(kNow - 1, 3).total, 0);
  EXPECT_EQ(s.Window(kNow - 1, 4).total, 20);
}

TEST(MinuteSeriesTest, RetentionDropsOldMinutes) {
  MinuteSeries s(10);
  s.Add(kNow - 20, {5, 5});
  s.Add(kNow, {1, 0});
  EXPECT_EQ(s.Window(kNow, 1000).total, 1);
  EXPECT_EQ(s.Get(kNow - 20).total, 0);
}

TEST(BurnRateTest, ErrorRateOverBudget) {
  EXPECT_NEAR(BurnRate({1000, 1}, 0.999), 1.0, 1e-9);
  EXPECT_NEAR(BurnRate({1000, 144}, 0.99), 14.4, 1e-9);
  EXPECT_EQ(BurnRate({0, 0}, 0.999), 0);
}

TEST(EvaluateSloTest, SteadyTwoPercentErrorsFireEveryRule) {
  MinuteSeries s(28 * 1440);
  for (int64_t m = 0; m < 4320; ++m) s.Add(kNow - m, {100, 2});
  SloStatus st = EvaluateSlo("availability", 0.999, 0, s, kNow, 28 * 1440, 20);
  EXPECT_NEAR(st.sli, 0.98, 1e-12);
  // 2% bad where 0.1% is allowed: 20x.
  for (const auto& r : st.rules) {
    EXPECT_NEAR(r.long_burn, 20, 1e-9) << r.rule.name;
    EXPECT_TRUE(r.firing) << r.rule.name;
  }
  EXPECT_NEAR(st.budget_total, 432.0, 1e-6);
  EXPECT_NEAR(st.budget_remaining, 1 - 8640.0 / 432.0, 1e-9);
}

TEST(EvaluateSloTest, ASpikePagesUntilTheShortWindowIsClean) {
  MinuteSeries s(28 * 1440);
  // An hour of clean traffic, then 3 minutes at 100% errors: the 5m window burns
  // 600x, the 1h window 3/60 / 0.001 = 50x: page_fast fires; 6h: 3/360 -> 8.3x and
  // 30m: 3/30 -> 100x: page_slow fires too; the 3d ticket window needs 1x: 8.3x.
  for (int64_t m = 3; m < 360; ++m) s.Add(kNow - m, {100, 0});
  for (int64_t m = 0; m < 3; ++m) s.Add(kNow - m, {100, 100});
  SloStatus st = EvaluateSlo("availability", 0.999, 0, s, kNow, 28 * 1440, 20);
  EXPECT_TRUE(st.rules[0].firing);
  EXPECT_TRUE(st.rules[1].firing);
  // Ten minutes later the 5m window is clean: page_fast stops although 1h still burns.
  SloStatus later = EvaluateSlo("availability", 0.999, 0, s, kNow + 10, 28 * 1440, 20);
  EXPECT_GT(later.rules[0].long_burn, 14.4);
  EXPECT_EQ(later.rules[0].short_burn, 0);
  EXPECT_FALSE(later.rules[0].firing);
}

TEST(EvaluateSloTest, TooFewRequestsDoNotFire) {
  MinuteSeries s(1440);
  s.Add(kNow, {3, 3});
  SloStatus st = EvaluateSlo("availability", 0.999, 0, s, kNow, 1440, 20);
  EXPECT_FALSE(st.rules[0].firing);
  EXPECT_NE(st.rules[0].reason.find("min_requests"), std::string::npos);
  EXPECT_NEAR(st.budget_remaining, -999, 1e-6);  // 3 bad where 0.003 were allowed
}

TEST(EvaluateSloTest, NoTrafficIsAFullBudget) {
  MinuteSeries s(1440);
  SloStatus st = EvaluateSlo("latency", 0.95, 100, s, kNow, 1440, 20);
  EXPECT_EQ(st.sli, 1);
  EXPECT_EQ(st.budget_remaining, 1);
  for (const auto& r : st.rules) EXPECT_FALSE(r.firing);
  std::string json = SloStatusJson(st);
  EXPECT_NE(json.find(R"("threshold_ms":100)"), std::string::npos) << json;
  EXPECT_NE(json.find(R"("3d")"), std::string::npos) << json;
}

}  // namespace
}  // namespace closedloop
