// The support app through the real binary: decisions from the rules file, the
// human queue, resolving with a label that becomes feedback on the prediction.
#include "integration/fixture.h"

namespace closedloop::testing {
namespace {

class SupportTest : public ServerFixture {
 protected:
  void StartWithRules(const std::string& rules) {
    WriteFile(dir_.File("support.toml"), rules);
    Start(std::string(kTestConfig) + "[support]\nrules_file = \"" + dir_.File("support.toml") +
          "\"\n");
  }
  HttpResult Inquiry(const std::string& body) {
    return Fetch(port_, "POST", "/v1/support/inquiries", body);
  }
};

TEST_F(SupportTest, AutoReplyWithTheIntentsTemplate) {
  StartWithRules(R"(intent_model = "support-intent"
sentiment_model = ""
confidence_threshold = 0.0
default_reply = "About {intent}."
[replies]
card_arrival = "Cards arrive within 5 days."
)");
  auto r = Inquiry(R"({"text":"my card has not arrived yet","customer_id":"c-9"})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = ParseJson(r.body);
  EXPECT_EQ(j->Str("decision"), "auto_reply");
  std::string intent(j->Str("intent"));
  std::string words;  // the intent in words: '_' as spaces, lower case, no '?'
  for (char c : intent) {
    if (c != '?') words += c == '_' ? ' ' : static_cast<char>(std::tolower(c));
  }
  EXPECT_EQ(j->Str("reply"),
            intent == "card_arrival" ? "Cards arrive within 5 days." : "About " + words + ".");
  EXPECT_NE(r.body.find(R"("sentiment":null)"), std::string::npos);
  // The inquiry is a logged prediction that feedback can name.
  auto pred = Fetch(port_, "GET", "/v1/predictions/" + std::string(j->Str("request_id")));
  EXPECT_EQ(pred.status, 200) << pred.body;
  auto fb = Fetch(port_, "POST", "/v1/feedback",
                  R"({"request_id":")" + std::string(j->Str("request_id")) + R"(","rating":5})");
  EXPECT_EQ(fb.status, 201) << fb.body;
  EXPECT_EQ(Fetch(port_, "GET", "/v1/support/escalations").body, R"({"escalations":[]})");
}

TEST_F(SupportTest, EscalationsQueueAndResolve) {
  // Every inquiry is below a confidence of 1: all are escalated.
  StartWithRules(R"(intent_model = "support-intent"
sentiment_model = ""
confidence_threshold = 1.0
high_risk_intents = ["request_refund"]
default_reply = "About {intent}."
)");
  auto a = Inquiry(R"({"text":"I want a refund"})");
  ASSERT_EQ(a.status, 200) << a.body;
  auto ja = ParseJson(a.body);
  EXPECT_EQ(ja->Str("decision"), "escalate");
  EXPECT_NE(a.body.find(R"("low_confidence")"), std::string::npos);
  EXPECT_EQ(a.body.find(R"("reply")"), std::string::npos);
  std::string id(ja->Str("request_id"));
  ASSERT_EQ(Inquiry(R"({"text":"where is my card"})").status, 200);
  auto queue = Fetch(port_, "GET", "/v1/support/escalations");  // answered after storing
  ASSERT_EQ(queue.status, 200);
  simdjson::dom::array open;
  auto q = ParseJson(queue.body);
  ASSERT_FALSE(q->root["escalations"].get(open));
  ASSERT_EQ(open.size(), 2u);
  std::string_view first;
  ASSERT_FALSE(open.at(0)["request_id"].get(first));
  EXPECT_EQ(first, id);  // oldest first

  auto resolve = [&](const std::string& rid, const std::string& body) {
    return Fetch(port_, "POST", "/v1/support/escalations/" + rid + "/resolve", body);
  };
  auto done = resolve(id, R"({"label":"request_refund","reply":"Refunded, sorry for the wait."})");
  ASSERT_EQ(done.status, 200) << done.body;
  auto jd = ParseJson(done.body);
  EXPECT_EQ(jd->Str("status"), "resolved");
  // The person's label is feedback on that very prediction.
  auto label = Fetch(port_, "GET", "/v1/feedback/" + std::string(jd->Str("feedback_id")));
  ASSERT_EQ(label.status, 200) << label.body;
  EXPECT_EQ(ParseJson(label.body)->Str("request_id"), id);
  EXPECT_EQ(resolve(id, R"({"label":"request_refund","reply":"again"})").status, 409);
  EXPECT_EQ(resolve("01NOSUCH", R"({"label":"request_refund","reply":"x"})").status, 404);
  auto bad_label = resolve(id, R"({"label":"not_an_intent","reply":"x"})");
  EXPECT_EQ(bad_label.status, 400);
  EXPECT_NE(bad_label.body.find("'not_an_intent' is not an intent"), std::string::npos);
  EXPECT_EQ(resolve(id, R"({"label":"request_refund"})").status, 400);
  auto left = Fetch(port_, "GET", "/v1/support/escalations?status=open");
  EXPECT_EQ(left.body.find(id), std::string::npos);
  auto resolved = Fetch(port_, "GET", "/v1/support/escalations?status=resolved");
  EXPECT_NE(resolved.body.find(R"("human_label":"request_refund")"), std::string::npos);
  EXPECT_EQ(Fetch(port_, "GET", "/v1/support/escalations?status=closed").status, 400);
}

TEST_F(SupportTest, BadInquiriesAreClearErrors) {
  StartWithRules("intent_model = \"support-intent\"\ndefault_reply = \"About {intent}.\"\n");
  for (const auto& [body, message] : std::vector<std::pair<std::string, std::string>>{
           {R"({})", "missing field 'text'"},
           {R"({"text":""})", "missing field 'text'"},
           {R"({"text":"hi","mood":"x"})", "unknown field 'mood'"},
           {R"({"text":5})", "field 'text' must be a string"},
           {R"({"text":")" + std::string(10001, 'a') + "\"}", "longer than 10000 bytes"},
           {"nope", "malformed JSON"},
       }) {
    auto r = Inquiry(body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_NE(r.body.find(message), std::string::npos) << r.body;
  }
}

}  // namespace
}  // namespace closedloop::testing

namespace closedloop::testing {
namespace {

TEST_F(SupportTest, EpsilonExplorationRecordsThePropensityOfEveryServedReply) {
  StartWithRules(R"(intent_model = "support-intent"
sentiment_model = ""
confidence_threshold = 0.0
exploration_epsilon = 0.5
exploration_seed = 3
default_reply = "About {intent}."
)");
  int explored = 0;
  const int n = 200;
  for (int i = 0; i < n; ++i) {
    auto r = Inquiry(R"({"text":"my card has not arrived yet"})");
    ASSERT_EQ(r.status, 200) << r.body;
    auto j = ParseJson(r.body);
    ASSERT_EQ(j->Str("decision"), "auto_reply");
    bool was_explored = r.body.find(R"("explored":true)") != std::string::npos;
    explored += was_explored;
    // Three top intents may be replied: greedy 1 - ε + ε/3, each other ε/3.
    EXPECT_NEAR(j->Num("propensity"), was_explored ? 0.5 / 3 : 0.5 + 0.5 / 3, 1e-9) << r.body;
    EXPECT_EQ(was_explored, j->Str("reply_intent") != j->Str("intent")) << r.body;
    if (i < 5 || was_explored) {  // the log holds the served action and its propensity
      auto p = ParseJson(
          Fetch(port_, "GET", "/v1/predictions/" + std::string(j->Str("request_id"))).body);
      EXPECT_EQ(p->Str("action"), j->Str("reply_intent"));
      EXPECT_NEAR(p->Num("propensity"), j->Num("propensity"), 1e-12);
    }
  }
  // P(explored) = ε · 2/3 = 1/3: 66.7 of 200, standard deviation 6.7.
  EXPECT_GT(explored, 35);
  EXPECT_LT(explored, 100);
}

}  // namespace
}  // namespace closedloop::testing
