#include "rollout/rollout_policy.h"

#include <gtest/gtest.h>

#include <random>

namespace closedloop {
namespace {

MeanVar Scores(double mean, double sd, int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> d(mean, sd);
  MeanVar m;
  for (int i = 0; i < n; ++i) m.Add(d(rng));
  return m;
}

StageEvidence Healthy() {
  StageEvidence e;
  e.champion.requests = 20000;
  e.champion.failures = 2;
  e.champion.p99_ms = 2.0;
  e.champion.score = Scores(0.7, 0.2, 400, 1);
  e.challenger.requests = 1000;
  e.challenger.failures = 0;
  e.challenger.p99_ms = 2.1;
  e.challenger_above_champion_p99 = 9;
  e.challenger.score = Scores(0.7, 0.2, 200, 2);
  return e;
}

TEST(RolloutPolicyTest, CanaryHoldsUntilTheSampleSizesAreReached) {
  RolloutConfig c;
  StageEvidence e = Healthy();
  e.challenger.requests = 50;
  StageDecision d = EvaluateCanary(e, c);
  EXPECT_EQ(d.verdict, Verdict::kHold);
  EXPECT_EQ(d.required_requests, 100);  // failure rate ~1e-4: the floor decides
  // σ ≈ 0.2, δ = 0.1: 2 · 7.85 · 0.04 / 0.01 ≈ 63 → the floor of 30 is below it.
  EXPECT_GE(d.required_feedback, 55);
  EXPECT_LE(d.required_feedback, 72);
  ASSERT_FALSE(d.reasons.empty());
  EXPECT_NE(d.reasons[0].find("challenger requests"), std::string::npos);
  e = Healthy();
  e.challenger.score = Scores(0.7, 0.2, 20, 3);
  EXPECT_EQ(EvaluateCanary(e, c).verdict, Verdict::kHold);
}

TEST(RolloutPolicyTest, CanaryAdvancesAnEqualChallenger) {
  StageDecision d = EvaluateCanary(Healthy(), RolloutConfig{});
  EXPECT_EQ(d.verdict, Verdict::kAdvance) << d.reasons[0];
  EXPECT_EQ(d.reasons.size(), 3u);
}

TEST(RolloutPolicyTest, CanaryRollsBackOnEachHarm) {
  RolloutConfig c;
  StageEvidence worse_scores = Healthy();
  worse_scores.challenger.score = Scores(0.55, 0.2, 200, 4);
  StageDecision d = EvaluateCanary(worse_scores, c);
  EXPECT_EQ(d.verdict, Verdict::kRollback);
  EXPECT_LT(d.score_test.p_value, 0.05);

  StageEvidence failing = Healthy();
  failing.challenger.failures = 20;  // 2% vs 0.01%
  EXPECT_EQ(EvaluateCanary(failing, c).verdict, Verdict::kRollback);

  StageEvidence slow = Healthy();
  slow.challenger.p99_ms = 8.0;
  slow.challenger_above_champion_p99 = 200;  // 20% above the champion's p99
  EXPECT_EQ(EvaluateCanary(slow, c).verdict, Verdict::kRollback);
  // Significant but within the tolerance: not a harm worth a rollback.
  slow.challenger.p99_ms = 2.5;
  EXPECT_EQ(EvaluateCanary(slow, c).verdict, Verdict::kAdvance);
  // Twice as slow but by a fraction of a millisecond: noise, not harm.
  slow.champion.p99_ms = 0.03;
  slow.challenger.p99_ms = 0.07;
  EXPECT_EQ(EvaluateCanary(slow, c).verdict, Verdict::kAdvance);
  c.latency_tolerance_ms = 0;
  EXPECT_EQ(EvaluateCanary(slow, c).verdict, Verdict::kRollback);
}

TEST(RolloutPolicyTest, ScoresCanBeLeftOutForModelsNobodyRates) {
  RolloutConfig c;
  c.score_delta = 0;
  StageEvidence e = Healthy();
  e.champion.score = MeanVar{};
  e.challenger.score = MeanVar{};
  StageDecision d = EvaluateCanary(e, c);
  EXPECT_EQ(d.verdict, Verdict::kAdvance);
  EXPECT_EQ(d.required_feedback, 0);
}

TEST(RolloutPolicyTest, ShadowJudgesAgreementAfterEnoughMirrors) {
  RolloutConfig c;
  StageEvidence e;
  e.champion.requests = 1000;
  e.mirrored = 150;
  e.agreed = 150;
  EXPECT_EQ(EvaluateShadow(e, c).verdict, Verdict::kHold);
  e.mirrored = 300;
  e.agreed = 270;
  EXPECT_EQ(EvaluateShadow(e, c).verdict, Verdict::kAdvance);
  e.agreed = 30;  // 10%: a different model
  StageDecision d = EvaluateShadow(e, c);
  EXPECT_EQ(d.verdict, Verdict::kRollback);
  EXPECT_NE(d.reasons[0].find("agreement with the champion 0.100 < 0.500"), std::string::npos);
  e.agreed = 270;
  e.mirror_failures = 30;
  EXPECT_EQ(EvaluateShadow(e, c).verdict, Verdict::kRollback);
  std::string json = EvidenceJson(e, d);
  EXPECT_NE(json.find("\"agreement\":0.9"), std::string::npos) << json;
}

}  // namespace
}  // namespace closedloop
