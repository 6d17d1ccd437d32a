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
  auto ok = Decide(*rules, {"card_arrival"}, 0.9, 0.2, 0.5);
  EXPECT_FALSE(ok.escalate);
  EXPECT_EQ(ok.reply, "Cards arrive within 5 days.");
  auto other = Decide(*rules, {"Refund_not_showing_up"}, 0.95, std::nullopt, 0.5);
  EXPECT_EQ(other.reply, "About refund not showing up.");
  auto all = Decide(*rules, {"request_refund"}, 0.5, -0.9, 0.5);
  EXPECT_TRUE(all.escalate);
  EXPECT_EQ(all.reasons,
            (std::vector<std::string>{"low_confidence", "high_risk_intent", "negative_sentiment"}));
  EXPECT_TRUE(all.reply.empty());
  // An inquiry the model finds out of scope is escalated even when confident.
  auto oos = Decide(*rules, {"card_arrival"}, 0.9, 0.2, 0.5, /*out_of_scope=*/true);
  EXPECT_TRUE(oos.escalate);
  EXPECT_EQ(oos.reasons, (std::vector<std::string>{"out_of_scope"}));
  EXPECT_EQ(oos.action, "escalate");
  // At the thresholds exactly: not below, so no escalation.
  EXPECT_FALSE(Decide(*rules, {"card_arrival"}, 0.7, -0.5, 0.5).escalate);
}

TEST(SupportRulesTest, ExplorationIsEpsilonGreedyOverTheRepliableTopIntentsWithPropensities) {
  auto rules = ParseSupportRules(kRules, "r.toml");
  ASSERT_TRUE(rules.ok());
  std::vector<std::string> top = {"card_arrival", "request_refund", "change_pin", "top_up"};
  // Without exploration: the top intent, propensity 1.
  auto greedy = Decide(*rules, top, 0.9, 0.0, 0.01);
  EXPECT_EQ(greedy.action, "card_arrival");
  EXPECT_DOUBLE_EQ(greedy.propensity, 1.0);
  EXPECT_FALSE(greedy.explored);
  rules->exploration_epsilon = 0.3;
  // Arms: card_arrival, change_pin, top_up (request_refund is high-risk). u < ε explores:
  // u / ε picks the arm uniformly.
  auto a = Decide(*rules, top, 0.9, 0.0, 0.05);  // 0.05/0.3*3 = 0.5 -> arm 0
  EXPECT_EQ(a.action, "card_arrival");
  EXPECT_DOUBLE_EQ(a.propensity, 0.7 + 0.1);
  EXPECT_FALSE(a.explored);
  auto b = Decide(*rules, top, 0.9, 0.0, 0.15);  // 1.5 -> arm 1
  EXPECT_EQ(b.action, "change_pin");
  EXPECT_TRUE(b.explored);
  EXPECT_DOUBLE_EQ(b.propensity, 0.1);
  EXPECT_EQ(b.reply, "About change pin.");
  auto c = Decide(*rules, top, 0.9, 0.0, 0.29);  // 2.9 -> arm 2
  EXPECT_EQ(c.action, "top_up");
  auto d = Decide(*rules, top, 0.9, 0.0, 0.3);  // u >= ε: greedy
  EXPECT_EQ(d.action, "card_arrival");
  EXPECT_DOUBLE_EQ(d.propensity, 0.8);
  // Escalations are never explored.
  auto e = Decide(*rules, {"request_refund", "card_arrival"}, 0.9, 0.0, 0.0);
  EXPECT_TRUE(e.escalate);
  EXPECT_EQ(e.action, "escalate");
  EXPECT_DOUBLE_EQ(e.propensity, 1.0);
  // The draw: in [0, 1), fixed per request id and seed, and about uniform.
  EXPECT_EQ(ExplorationDraw("01ABC", 7), ExplorationDraw("01ABC", 7));
  EXPECT_NE(ExplorationDraw("01ABC", 7), ExplorationDraw("01ABC", 8));
  int below = 0;
  for (int i = 0; i < 10000; ++i) {
    double u = ExplorationDraw("req-" + std::to_string(i), 1);
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    below += u < 0.3;
  }
  EXPECT_NEAR(below / 10000.0, 0.3, 0.02);  // 4.6 standard errors
  // The probabilities of the arms add up to one.
  EXPECT_NEAR(a.propensity + b.propensity + c.propensity, 1.0, 1e-12);
  EXPECT_NE(ParseSupportRules("exploration_epsilon = 1.5\n" + std::string(kRules), "r.toml")
                .status()
                .message()
                .find("'exploration_epsilon' must be from 0 to 1"),
            std::string::npos);
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
