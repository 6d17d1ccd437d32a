#include "feedback/scores.h"

#include <gtest/gtest.h>

#include <cmath>

namespace closedloop {
namespace {

TEST(ScoresTest, ImplicitScoreOfTheIssuesExample) {
  FeedbackRecord f;
  f.click = true;
  f.dwell_ms = 45300;
  f.scroll_depth = 0.78;
  // 0.4·1 + 0.4·(1 − e^(−0.05·45.3)) + 0.2·0.78 = 0.91447 (the issue rounds it to ≈ 0.916).
  double expected = 0.4 + 0.4 * (1 - std::exp(-0.05 * 45.3)) + 0.2 * 0.78;
  EXPECT_NEAR(*ImplicitScore(f, ScoreWeights{}), expected, 1e-12);
  EXPECT_NEAR(expected, 0.9145, 1e-4);
}

TEST(ScoresTest, MissingSignalsAreLeftOutAndTheRestRenormalized) {
  ScoreWeights w;
  FeedbackRecord f;
  EXPECT_FALSE(ImplicitScore(f, w).has_value());
  EXPECT_FALSE(ExplicitScore(f, w).has_value());
  f.click = true;
  EXPECT_DOUBLE_EQ(*ImplicitScore(f, w), 1.0);
  f.click = false;
  f.scroll_depth = 0.5;
  EXPECT_NEAR(*ImplicitScore(f, w), (0.4 * 0 + 0.2 * 0.5) / 0.6, 1e-12);
  FeedbackRecord e;
  e.rating = 5;
  EXPECT_DOUBLE_EQ(*ExplicitScore(e, w), 1.0);
  e.rating = 1;
  e.comment = "awful";
  EXPECT_FALSE(e.comment_sentiment.has_value());
  EXPECT_DOUBLE_EQ(*ExplicitScore(e, w), 0.0);  // no sentiment: the comment does not count
  e.comment_sentiment = -1;
  e.nps = 10;
  EXPECT_NEAR(*ExplicitScore(e, w), 0.5 * 0 + 0.3 * -1 + 0.2 * 1, 1e-12);
}

TEST(ScoresTest, NetPromoterScore) {
  EXPECT_FALSE(NetPromoterScore({}).has_value());
  // 2 promoters, 1 passive, 2 detractors of 5: 40% − 40% = 0.
  EXPECT_DOUBLE_EQ(*NetPromoterScore({10, 9, 8, 6, 0}), 0.0);
  EXPECT_DOUBLE_EQ(*NetPromoterScore({9, 9, 9, 7}), 75.0);
  EXPECT_DOUBLE_EQ(*NetPromoterScore({3}), -100.0);
}

}  // namespace
}  // namespace closedloop
