// Tabular models (XGBoost) through the real binary: /v1/predict with features and
// explanations, the OIP FP32 tensor form, bad input, and concurrent requests.
#include <atomic>
#include <cmath>
#include <thread>

#include "integration/fixture.h"
#include "support/xgboost_model.h"

namespace closedloop::testing {
namespace {

class XGBoostServingTest : public ServerFixture {
 protected:
  void StartWithModels() {
    WriteXgboostModel(dir_.File("models/fraud/1"), "binary:logistic");
    WriteXgboostModel(dir_.File("models/spend/1"), "reg:squarederror");
    Start();
  }
};

TEST_F(XGBoostServingTest, PredictByFeatureNameWithExplanation) {
  StartWithModels();
  auto r =
      Predict(R"({"model":"fraud","features":{"amount":400,"hour":3,"foreign":1},"explain":true})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = ParseJson(r.body);
  EXPECT_EQ(j->Str("label"), "fraud");
  auto ref = XgboostReference(dir_.File("models/fraud/1/model.json"), {400, 3, 1}, 1, 0);
  EXPECT_NEAR(j->Num("confidence"), ref[0], 1e-6);
  double bias = 0, amount = 0, hour = 0, foreign = 0;
  ASSERT_FALSE(j->root["explanation"]["bias"].get(bias));
  ASSERT_FALSE(j->root["explanation"]["contributions"]["amount"].get(amount));
  ASSERT_FALSE(j->root["explanation"]["contributions"]["hour"].get(hour));
  ASSERT_FALSE(j->root["explanation"]["contributions"]["foreign"].get(foreign));
  double margin = bias + amount + hour + foreign;
  EXPECT_NEAR(1 / (1 + std::exp(-margin)), ref[0], 1e-4);
  EXPECT_GT(amount, 0);  // a large amount pushes towards fraud

  // Missing features are XGBoost missing values; the stored input shows them as null.
  auto partial = Predict(R"({"model":"fraud","features":{"amount":400,"hour":null}})");
  ASSERT_EQ(partial.status, 200) << partial.body;
  auto stored = Fetch(port_, "GET",
                      "/v1/predictions/" + std::string(ParseJson(partial.body)->Str("request_id")));
  ASSERT_EQ(stored.status, 200);
  EXPECT_EQ(ParseJson(stored.body)->Str("input_text"),
            R"({"amount":400,"hour":null,"foreign":null})");

  auto reg = Predict(R"({"model":"spend","features":{"amount":100,"hour":2,"foreign":0}})");
  ASSERT_EQ(reg.status, 200) << reg.body;
  auto rj = ParseJson(reg.body);
  EXPECT_NEAR(rj->Num("prediction"),
              XgboostReference(dir_.File("models/spend/1/model.json"), {100, 2, 0}, 1, 0)[0], 1e-3);
  EXPECT_FALSE(rj->Has("label"));
}

TEST_F(XGBoostServingTest, BadTabularInput) {
  StartWithModels();
  struct Case {
    std::string body, message;
  };
  std::vector<Case> cases = {
      {R"({"model":"fraud","features":{"amount":1,"colour":2}})",
       "unknown feature 'colour' (model 'fraud' features: amount, hour, foreign)"},
      {R"({"model":"fraud","features":{"amount":"12"}})",
       "feature 'amount' must be a number or null"},
      {R"({"model":"fraud","features":[1,2,3]})", "field 'features' must be an object"},
      {R"({"model":"fraud","text":"hello"})", "models of flavor 'xgboost' do not take 'text'"},
      {R"({"model":"support-intent","features":{"a":1}})",
       "models of flavor 'fasttext' do not take 'features'"},
      {R"({"model":"fraud","features":{"amount":1},"text":"x"})",
       "give one of 'text', 'features' or 'image', not several"},
      {R"({"model":"fraud","features":{"amount":1},"explain":"yes"})",
       "field 'explain' must be a boolean"},
      {R"({"model":"fraud","features":{"amount":1e999}})", "malformed JSON"},
  };
  for (const auto& c : cases) {
    auto r = Predict(c.body);
    EXPECT_EQ(r.status, 400) << c.body << " -> " << r.body;
    EXPECT_NE(r.body.find(c.message), std::string::npos) << c.body << " -> " << r.body;
  }
  EXPECT_EQ(Predict(R"({"model":"fraud","features":{"amount":5}})").status, 200);
}

TEST_F(XGBoostServingTest, OipTensorInferenceAndMetadata) {
  StartWithModels();
  auto meta = Fetch(port_, "GET", "/v2/models/fraud");
  ASSERT_EQ(meta.status, 200);
  EXPECT_NE(meta.body.find(R"({"name":"features","datatype":"FP32","shape":[-1,3]})"),
            std::string::npos)
      << meta.body;
  auto r = Fetch(port_, "POST", "/v2/models/fraud/infer",
                 R"({"id":"t1","inputs":[{"name":"features","shape":[2,3],"datatype":"FP32",)"
                 R"("data":[[400,3,1],[20,12,0]]}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = ParseJson(r.body);
  auto ref = XgboostReference(dir_.File("models/fraud/1/model.json"), {400, 3, 1, 20, 12, 0}, 2, 0);
  double p0 = 0, p1 = 0;
  ASSERT_FALSE(j->root["outputs"].at(2)["data"].at(1).get(p0));
  ASSERT_FALSE(j->root["outputs"].at(2)["data"].at(3).get(p1));
  EXPECT_NEAR(p0, ref[0], 1e-6);
  EXPECT_NEAR(p1, ref[1], 1e-6);
  auto wrong =
      Fetch(port_, "POST", "/v2/models/fraud/infer",
            R"({"inputs":[{"name":"features","shape":[1,2],"datatype":"FP32","data":[1,2]}]})");
  EXPECT_EQ(wrong.status, 400);
  EXPECT_NE(wrong.body.find("must have shape [-1,3], not [1,2]"), std::string::npos);
}

TEST_F(XGBoostServingTest, ConcurrentRequestsAgree) {
  StartWithModels();
  std::atomic<int> bad{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      Connection c(port_);
      for (int i = 0; i < 150; ++i) {
        bool explain = (i + t) % 5 == 0;
        auto r = c.Request("POST", "/v1/predict",
                           std::string(R"({"model":"fraud","features":{"amount":400,"hour":3,)") +
                               R"("foreign":1},"explain":)" + (explain ? "true" : "false") + "}");
        if (r.status != 200 || ParseJson(r.body)->Str("label") != "fraud") ++bad;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(bad.load(), 0);
}

}  // namespace
}  // namespace closedloop::testing
