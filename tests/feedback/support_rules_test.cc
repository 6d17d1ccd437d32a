#include "feedback/support_rules.h"

#include <gtest/gtest.h>

namespace closedloop {
namespace {

constexpr const char* kRules = R"(
confidence_threshold = 0.7
sentiment_threshold = -0.5
high_risk_intents = ["request_refund"]
default_reply = "About {intent}."
[replies]
card_arrival = "Cards arrive within 5 days."
)";

TEST(SupportRulesTest, EveryReasonThatAppliesIsListed) {
  auto rules = ParseSupportRules(kRules, "r.toml");
  ASSERT_TRUE(rules.ok()) << rules.status().message();
  auto ok = Decide(*rules, "card_arrival", 0.9, 0.2);
  EXPECT_FALSE(ok.escalate);
  EXPECT_EQ(ok.reply, "Cards arrive within 5 days.");
  auto other = Decide(*rules, "Refund_not_showing_up", 0.95, std::nullopt);
  EXPECT_EQ(other.reply, "About refund not showing up.");
  auto all = Decide(*rules, "request_refund", 0.5, -0.9);
  EXPECT_TRUE(all.escalate);
  EXPECT_EQ(all.reasons,
            (std::vector<std::string>{"low_confidence", "high_risk_intent", "negative_sentiment"}));
  EXPECT_TRUE(all.reply.empty());
  // At the thresholds exactly: not below, so no escalation.
  EXPECT_FALSE(Decide(*rules, "card_arrival", 0.7, -0.5).escalate);
}

TEST(SupportRulesTest, BadRulesAreErrorsNamingTheKey) {
  EXPECT_NE(ParseSupportRules("confidence_threshold = 2\ndefault_reply = \"x\"", "r.toml")
                .status()
                .message()
                .find("'confidence_threshold' must be from 0 to 1"),
            std::string::npos);
  EXPECT_NE(ParseSupportRules("treshold = 1\ndefault_reply = \"x\"", "r.toml")
                .status()
                .message()
                .find("'treshold' is not a known key"),
            std::string::npos);
  EXPECT_NE(ParseSupportRules("", "r.toml").status().message().find("'default_reply' is required"),
            std::string::npos);
  EXPECT_EQ(LoadSupportRules("/nonexistent.toml").status().code(), StatusCode::kNotFound);
  // The shipped rules parse.
  auto shipped =
      LoadSupportRules(std::string(CLOSEDLOOP_SOURCE_DIR) + "/examples/support/support.toml");
  ASSERT_TRUE(shipped.ok()) << shipped.status().message();
  EXPECT_EQ(shipped->high_risk_intents.count("request_refund"), 1u);
}

}  // namespace
}  // namespace closedloop
