#include "feedback/feedback_request.h"

#include <gtest/gtest.h>

namespace closedloop {
namespace {

TEST(FeedbackRequestTest, ParsesEverySignal) {
  auto f = ParseFeedbackRequest(
      R"({"request_id":"01ABC","rating":4,"comment":"ok","nps":9,"label":"refund",)"
      R"("click":true,"dwell_ms":1200,"scroll_depth":1,"idempotency_key":"k"})");
  ASSERT_TRUE(f.ok()) << f.status().message();
  EXPECT_EQ(f->request_id, "01ABC");
  EXPECT_EQ(*f->rating, 4);
  EXPECT_EQ(*f->nps, 9);
  EXPECT_EQ(*f->label, "refund");
  EXPECT_TRUE(*f->click);
  EXPECT_EQ(*f->dwell_ms, 1200);
  EXPECT_DOUBLE_EQ(*f->scroll_depth, 1.0);
  EXPECT_EQ(*f->idempotency_key, "k");
}

TEST(FeedbackRequestTest, ErrorsNameTheField) {
  struct Case {
    const char* body;
    const char* message;
  };
  for (const Case& c : std::vector<Case>{
           {"{", "malformed JSON"},
           {"[]", "must be a JSON object"},
           {R"({"rating":3})", "missing field 'request_id'"},
           {R"({"request_id":"x"})", "no feedback signal"},
           {R"({"request_id":"x","rating":0})", "field 'rating' must be from 1 to 5"},
           {R"({"request_id":"x","rating":2.5})", "field 'rating' must be an integer"},
           {R"({"request_id":"x","nps":11})", "field 'nps' must be from 0 to 10"},
           {R"({"request_id":"x","scroll_depth":1.5})", "field 'scroll_depth' must be from 0 to 1"},
           {R"({"request_id":"x","dwell_ms":-1})", "field 'dwell_ms'"},
           {R"({"request_id":"x","click":"yes"})", "field 'click' must be a boolean"},
           {R"({"request_id":"x","label":""})", "field 'label' is empty"},
           {R"({"request_id":5,"rating":3})", "field 'request_id'"},
           {R"({"request_id":"x","stars":3})", "unknown field 'stars'"},
       }) {
    auto f = ParseFeedbackRequest(c.body);
    ASSERT_FALSE(f.ok()) << c.body;
    EXPECT_NE(f.status().message().find(c.message), std::string::npos)
        << c.body << " -> " << f.status().message();
  }
  std::string long_comment(kMaxCommentBytes + 1, 'a');
  auto big = ParseFeedbackRequest(R"({"request_id":"x","comment":")" + long_comment + "\"}");
  EXPECT_NE(big.status().message().find("longer than 10000 bytes"), std::string::npos);
}

TEST(FeedbackRequestTest, BatchNamesTheItem) {
  auto ok = ParseFeedbackBatch(R"({"feedback":[{"request_id":"a","click":true},)"
                               R"({"request_id":"b","rating":5}]})");
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->size(), 2u);
  auto bad = ParseFeedbackBatch(R"({"feedback":[{"request_id":"a","click":true},{"rating":5}]})");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().message(), "feedback[1]: missing field 'request_id'");
  EXPECT_FALSE(ParseFeedbackBatch(R"({"feedback":[]})").ok());
  EXPECT_FALSE(ParseFeedbackBatch(R"({"items":[]})").ok());
  EXPECT_FALSE(ParseFeedbackBatch(R"({"feedback":[1]})").ok());
}

}  // namespace
}  // namespace closedloop
