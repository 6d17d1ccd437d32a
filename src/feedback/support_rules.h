// The support app's decision: answer an inquiry automatically or hand it to a
// person, and why. Rules (examples/support/support.toml):
//   escalate when the intent's calibrated confidence < confidence_threshold,
//   when the intent is in high_risk_intents, or when the inquiry's sentiment
//   (p(positive) − p(negative)) < sentiment_threshold; every reason that applies
//   is listed. Otherwise auto_reply with the intent's template (or the default).
// Pure functions over an immutable config; thread-safe.
#pragma once

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
};

StatusOr<SupportRules> ParseSupportRules(std::string_view toml_text, std::string_view source);
StatusOr<SupportRules> LoadSupportRules(const std::string& path);

struct SupportDecision {
  bool escalate = false;
  std::vector<std::string> reasons;  // low_confidence, high_risk_intent, negative_sentiment
  std::string reply;                 // auto_reply only
};

SupportDecision Decide(const SupportRules& rules, const std::string& intent, double confidence,
                       std::optional<double> sentiment);

}  // namespace closedloop
