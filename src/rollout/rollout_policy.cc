#include "rollout/rollout_policy.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/json_writer.h"

namespace closedloop {

namespace {

std::string Fmt(const char* format, double a, double b = 0, double c = 0) {
  char buf[200];
  std::snprintf(buf, sizeof buf, format, a, b, c);
  return buf;
}

double Rate(int64_t x, int64_t n) { return n > 0 ? static_cast<double>(x) / n : 0; }

}  // namespace

const char* VerdictName(Verdict v) {
  switch (v) {
    case Verdict::kHold:
      return "hold";
    case Verdict::kAdvance:
      return "advance";
    case Verdict::kRollback:
      return "rollback";
  }
  return "hold";
}

StageDecision EvaluateShadow(const StageEvidence& e, const RolloutConfig& c) {
  StageDecision d;
  d.required_requests = c.shadow_min_samples;
  if (e.mirrored < c.shadow_min_samples) {
    d.reasons.push_back(Fmt("waiting for %.0f mirrored requests (have %.0f)",
                            static_cast<double>(c.shadow_min_samples),
                            static_cast<double>(e.mirrored)));
    return d;
  }
  double agreement = Rate(e.agreed, e.mirrored);
  d.failure_test =
      FailureRateTest(e.champion.failures, e.champion.requests, e.mirror_failures, e.mirrored);
  d.verdict = Verdict::kAdvance;
  if (agreement < c.shadow_min_agreement) {
    d.verdict = Verdict::kRollback;
    d.reasons.push_back(
        Fmt("agreement with the champion %.3f < %.3f", agreement, c.shadow_min_agreement));
  } else {
    d.reasons.push_back(
        Fmt("agreement with the champion %.3f >= %.3f", agreement, c.shadow_min_agreement));
  }
  if (d.failure_test.p_value < c.alpha) {
    d.verdict = Verdict::kRollback;
    d.reasons.push_back(
        Fmt("failure rate %.4f vs %.4f, p = %.4g", Rate(e.mirror_failures, e.mirrored),
            Rate(e.champion.failures, e.champion.requests), d.failure_test.p_value));
  }
  return d;
}

StageDecision EvaluateCanary(const StageEvidence& e, const RolloutConfig& c) {
  StageDecision d;
  double p = Rate(e.champion.failures, e.champion.requests);
  d.required_requests = std::max(
      c.min_requests, RequiredSampleSize(std::sqrt(p * (1 - p)), c.error_delta, c.alpha, c.power));
  const bool use_scores = c.score_delta > 0;
  if (use_scores) {
    double sigma = e.champion.score.n >= 2 ? std::sqrt(e.champion.score.variance()) : 0.5;
    d.required_feedback =
        std::max(c.min_feedback, RequiredSampleSize(sigma, c.score_delta, c.alpha, c.power));
  }
  bool waiting = false;
  for (const auto* arm : {&e.champion, &e.challenger}) {
    const char* name = arm == &e.champion ? "champion" : "challenger";
    if (arm->requests < d.required_requests) {
      waiting = true;
      d.reasons.push_back(std::string("waiting for ") + std::to_string(d.required_requests) + " " +
                          name + " requests (have " + std::to_string(arm->requests) + ")");
    }
    if (use_scores && arm->score.n < d.required_feedback) {
      waiting = true;
      d.reasons.push_back(std::string("waiting for ") + std::to_string(d.required_feedback) + " " +
                          name + " feedback scores (have " + std::to_string(arm->score.n) + ")");
    }
  }
  if (waiting) return d;

  d.verdict = Verdict::kAdvance;
  d.failure_test = FailureRateTest(e.champion.failures, e.champion.requests, e.challenger.failures,
                                   e.challenger.requests);
  double f1 = Rate(e.champion.failures, e.champion.requests);
  double f2 = Rate(e.challenger.failures, e.challenger.requests);
  if (d.failure_test.p_value < c.alpha) {
    d.verdict = Verdict::kRollback;
    d.reasons.push_back(
        Fmt("failure rate worse: %.4f vs %.4f, p = %.4g", f2, f1, d.failure_test.p_value));
  } else {
    d.reasons.push_back(Fmt("failure rate %.4f vs %.4f, p = %.4g", f2, f1, d.failure_test.p_value));
  }
  d.latency_test = TailLatencyTest(e.challenger_above_champion_p99, e.challenger.requests);
  bool slower = e.challenger.p99_ms > e.champion.p99_ms * (1 + c.latency_tolerance) &&
                e.challenger.p99_ms - e.champion.p99_ms > c.latency_tolerance_ms;
  if (d.latency_test.p_value < c.alpha && slower) {
    d.verdict = Verdict::kRollback;
    d.reasons.push_back(Fmt("p99 latency worse: %.3f ms vs %.3f ms, p = %.4g", e.challenger.p99_ms,
                            e.champion.p99_ms, d.latency_test.p_value));
  } else {
    d.reasons.push_back(Fmt("p99 latency %.3f ms vs %.3f ms, p = %.4g", e.challenger.p99_ms,
                            e.champion.p99_ms, d.latency_test.p_value));
  }
  if (use_scores) {
    d.score_test =
        MeanScoreTest(e.champion.score.mean, e.champion.score.variance(), e.champion.score.n,
                      e.challenger.score.mean, e.challenger.score.variance(), e.challenger.score.n);
    if (d.score_test.p_value < c.alpha) {
      d.verdict = Verdict::kRollback;
      d.reasons.push_back(Fmt("mean feedback score worse: %.3f vs %.3f, p = %.4g",
                              e.challenger.score.mean, e.champion.score.mean,
                              d.score_test.p_value));
    } else {
      d.reasons.push_back(Fmt("mean feedback score %.3f vs %.3f, p = %.4g", e.challenger.score.mean,
                              e.champion.score.mean, d.score_test.p_value));
    }
  }
  return d;
}

std::string EvidenceJson(const StageEvidence& e, const StageDecision& d) {
  JsonWriter w(1024);
  auto arm = [&](const char* name, const ArmEvidence& a) {
    w.Key(name).BeginObject().Key("requests").Int(a.requests).Key("failures").Int(a.failures);
    w.Key("p99_ms").Double(a.p99_ms).Key("feedback").Int(a.score.n);
    w.Key("mean_score").Double(a.score.mean).Key("score_sd").Double(std::sqrt(a.score.variance()));
    w.EndObject();
  };
  auto test = [&](const char* name, const TestResult& t) {
    w.Key(name).BeginObject().Key("statistic").Double(t.statistic).Key("p_value").Double(t.p_value);
    if (t.df > 0) w.Key("df").Double(t.df);
    w.EndObject();
  };
  w.BeginObject();
  arm("champion", e.champion);
  arm("challenger", e.challenger);
  w.Key("challenger_above_champion_p99").Int(e.challenger_above_champion_p99);
  w.Key("shadow").BeginObject().Key("mirrored").Int(e.mirrored).Key("agreed").Int(e.agreed);
  w.Key("agreement").Double(Rate(e.agreed, e.mirrored)).Key("failures").Int(e.mirror_failures);
  w.Key("dropped").Int(e.mirror_dropped).Key("p99_ms").Double(e.mirror_p99_ms).EndObject();
  w.Key("required").BeginObject().Key("requests").Int(d.required_requests);
  w.Key("feedback").Int(d.required_feedback).EndObject();
  w.Key("tests").BeginObject();
  test("failure_rate", d.failure_test);
  test("p99_latency", d.latency_test);
  test("mean_score", d.score_test);
  w.EndObject().Key("verdict").String(VerdictName(d.verdict)).Key("reasons").BeginArray();
  for (const auto& r : d.reasons) w.String(r);
  w.EndArray().EndObject();
  return std::move(w).Take();
}

}  // namespace closedloop
