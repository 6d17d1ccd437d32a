// The decision of one rollout stage from its evidence (pure; thread-safe).
//
// Shadow: hold until shadow_min_samples requests were mirrored; then roll back
//   when the challenger agrees with the champion on fewer than
//   shadow_min_agreement of them, or fails significantly more often; else advance.
// Canary step: hold until both arms reached the step's sample sizes —
//   requests: max(min_requests, n(σ_err, error_delta)) with σ_err² = p(1−p) of
//             the champion's failure rate;
//   feedback: max(min_feedback, n(σ_score, score_delta)) with σ_score the
//             champion's score deviation (0.5, the widest, before it has two);
//   n(σ, δ) = 2(z_{α/2} + z_β)²σ²/δ² (rollout_stats.h) —
//   then roll back when any harm test is significant at α (one-sided):
//   failure rate (two-proportion z), p99 latency (share of challenger requests
//   above the champion's p99, and only when the challenger's p99 exceeds the
//   champion's by more than latency_tolerance and latency_tolerance_ms), mean
//   feedback score (Welch t);
//   else advance. score_delta = 0 leaves feedback out (for models nobody rates).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/config.h"
#include "rollout/rollout_stats.h"

namespace closedloop {

struct ArmEvidence {
  int64_t requests = 0;
  int64_t failures = 0;
  double p99_ms = 0;
  MeanVar score;  // feedback scores of this arm's predictions in the stage
};

struct StageEvidence {
  ArmEvidence champion, challenger;
  // Challenger requests slower than the champion's p99 (canary).
  int64_t challenger_above_champion_p99 = 0;
  // Shadow: requests mirrored to the challenger, how many it answered with the
  // champion's label, how many failed, how many were dropped (queue full).
  int64_t mirrored = 0, agreed = 0, mirror_failures = 0, mirror_dropped = 0;
  double mirror_p99_ms = 0;
};

enum class Verdict { kHold, kAdvance, kRollback };
const char* VerdictName(Verdict v);  // "hold" | "advance" | "rollback"

struct StageDecision {
  Verdict verdict = Verdict::kHold;
  std::vector<std::string> reasons;  // why (each test's outcome, or what it waits for)
  int64_t required_requests = 0;
  int64_t required_feedback = 0;
  TestResult failure_test, latency_test, score_test;
};

StageDecision EvaluateShadow(const StageEvidence& e, const RolloutConfig& config);
StageDecision EvaluateCanary(const StageEvidence& e, const RolloutConfig& config);

// {"champion":{...},"challenger":{...},"shadow":{...},"required":{...},"tests":{...}}
std::string EvidenceJson(const StageEvidence& e, const StageDecision& d);

}  // namespace closedloop
