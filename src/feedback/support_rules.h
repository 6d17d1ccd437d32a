// The support app's decision: answer an inquiry automatically or hand it to a
// person, and why. Rules (examples/support/support.toml):
//   escalate when the intent's calibrated confidence < confidence_threshold,
//   when the intent is in high_risk_intents, or when the inquiry's sentiment
//   (p(positive) − p(negative)) < sentiment_threshold; every reason that applies
//   is listed; and when the intent model finds the inquiry out of scope (its
//   config.toml's oos_threshold, or a top intent named "oos"). Otherwise auto_reply with the
//   intent's template (or the default).
// ε-exploration (exploration_epsilon > 0): an auto reply is, with probability ε,
// the reply of an intent drawn uniformly from the model's top intents that could
// be auto-replied (not high-risk), instead of the top one. Every decision records
// its propensity — the probability that this policy served this action — so
// retraining can weight what it learns from the reply's feedback by 1/propensity.
// Pure functions over an immutable config; thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/status.h"

namespace closedloop {

struct SupportRules {
  std::string intent_model = "support-intent@champion";
  std::string sentiment_model = "comment-sentiment@champion";
  double confidence_threshold = 0.7;
  double sentiment_threshold = -0.5;
  std::set<std::string> high_risk_intents;
  std::string default_reply;
  std::map<std::string, std::string> replies;
  double exploration_epsilon = 0;  // 0: always the top intent's reply
  uint64_t exploration_seed = 0;   // salts the per-request draw
};

StatusOr<SupportRules> ParseSupportRules(std::string_view toml_text, std::string_view source);
StatusOr<SupportRules> LoadSupportRules(const std::string& path);

struct SupportDecision {
  bool escalate = false;
  // out_of_scope, low_confidence, high_risk_intent, negative_sentiment
  std::vector<std::string> reasons;
  std::string reply;      // auto_reply only
  std::string action;     // the intent whose reply was sent, or "escalate"
  double propensity = 1;  // P(this action | the inquiry) under the policy
  bool explored = false;  // the action is not the model's top intent
};

// `top_intents` are the model's best intents, best first (top_intents[0] is the
// one decided on); `u` is a uniform draw in [0, 1) for this request (see ExplorationDraw);
// `out_of_scope`: the intent model rejects the inquiry (serving/oos_score.h).
SupportDecision Decide(const SupportRules& rules, const std::vector<std::string>& top_intents,
                       double confidence, std::optional<double> sentiment, double u,
                       bool out_of_scope = false);

// A uniform number in [0, 1) fixed by the request id and the seed: the same
// request always explores the same way, with no shared random state.
double ExplorationDraw(std::string_view request_id, uint64_t seed);

}  // namespace closedloop
