#include "serving/predict_request.h"

#include <gtest/gtest.h>

namespace closedloop {
namespace {

std::string Error(std::string_view body, size_t max = 100) {
  auto r = ParsePredictRequest(body, max);
  EXPECT_FALSE(r.ok()) << body;
  return r.ok() ? "" : r.status().message();
}

TEST(PredictRequestTest, ParsesAllFields) {
  auto r = ParsePredictRequest(
      R"({"model":"support-intent@champion","text":"card lost","top_k":3})", 100);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->model, "support-intent@champion");
  EXPECT_EQ(r->text, "card lost");
  EXPECT_EQ(r->top_k, 3);
  auto v = ParsePredictRequest(R"({"model":"m","version":2,"text":"x"})", 100);
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->version, "2");
  auto s = ParsePredictRequest(R"({"model":"m","version":"7","text":"\u00e9\n"})", 100);
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->version, "7");
  EXPECT_EQ(s->text, "é\n");
}

TEST(PredictRequestTest, ErrorsNameTheField) {
  EXPECT_NE(Error("").find("empty"), std::string::npos);
  EXPECT_NE(Error("{").find("malformed JSON"), std::string::npos);
  EXPECT_NE(Error(R"({"model":"m","text":"x"} trailing)").find("malformed JSON"),
            std::string::npos);
  EXPECT_NE(Error("[1,2]").find("must be a JSON object, not an array"), std::string::npos);
  EXPECT_NE(Error("\"str\"").find("not a string"), std::string::npos);
  EXPECT_EQ(Error(R"({"text":"x"})"), "missing field 'model'");
  EXPECT_EQ(Error(R"({"model":"m"})"),
            "missing field 'text' (or 'features', 'image', 'image_b64')");
  EXPECT_EQ(Error(R"({"model":5,"text":"x"})"), "field 'model' must be a string");
  EXPECT_EQ(Error(R"({"model":"","text":"x"})"), "field 'model' must not be empty");
  EXPECT_EQ(Error(R"({"model":"m","text":123})"), "field 'text' must be a string, not a number");
  EXPECT_EQ(Error(R"({"model":"m","text":null})"), "field 'text' must be a string, not null");
  EXPECT_EQ(Error(R"({"model":"m","text":"  \n"})"), "field 'text' must not be empty");
  EXPECT_EQ(Error(R"({"model":"m","text":"0123456789x"})", 10),
            "field 'text' is 11 bytes; the limit is 10");
  EXPECT_EQ(Error(R"({"model":"m","text":"x","version":[1]})"),
            "field 'version' must be a string or an integer");
  EXPECT_EQ(Error(R"({"model":"m","text":"x","version":0})"),
            "field 'version' must be a positive integer");
  EXPECT_EQ(Error(R"({"model":"m","text":"x","top_k":0})"),
            "field 'top_k' must be an integer between 1 and 1000");
  EXPECT_NE(Error(R"({"model":"m","txt":"x"})").find("unknown field 'txt'"), std::string::npos);
}

TEST(PredictRequestTest, InvalidUtf8AndDeepNestingAreRejected) {
  EXPECT_NE(Error("{\"model\":\"m\",\"text\":\"\xff\xfe\"}").find("malformed JSON"),
            std::string::npos);
  std::string deep(5000, '[');
  deep += std::string(5000, ']');
  EXPECT_NE(Error(deep).find("malformed JSON"), std::string::npos);
}

}  // namespace
}  // namespace closedloop
