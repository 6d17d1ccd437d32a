// `closedloop train text --model mlp` through the real binary: the neural head
// trains on the shipped Banking77 data, its INT8 form keeps its accuracy, the
// model serves through /v1/predict and OIP, `closedloop eval` agrees with the
// training report, and bad training data is a clear error that leaves no model.
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "integration/fixture.h"
#include "support/banking77.h"
#include "support/command.h"

namespace closedloop::testing {
namespace {

namespace fs = std::filesystem;

const std::string kData = std::string(CLOSEDLOOP_SOURCE_DIR) + "/examples/support/data";

class MlpTrainingTest : public ServerFixture {};

TEST_F(MlpTrainingTest, EnsembleTrainsQuantizesServesAndEvaluates) {
  const std::string model = dir_.File("models/intent/1");
  auto [rc, out] = RunClosedloop(
      "train text --model mlp --input " + kData + "/train.csv --test " + kData +
      "/test.csv --label-col category --output " + model +
      " --hidden 64 --max-epochs 4 --ensemble 2 --bagging --threads 2 --quantize --no-tracking");
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(Field(out, "labels"), 77) << out;
  EXPECT_EQ(Field(out, "ensemble"), 2) << out;
  EXPECT_GT(Field(out, "features"), 5000) << out;
  EXPECT_GT(Field(out, "test_accuracy"), 0.85) << out;  // fastText's default reaches ~0.89
  EXPECT_LT(Field(out, "test_ece"), 0.05) << out;
  // INT8 rows of W1: about a quarter of the float file, accuracy within a point.
  EXPECT_LT(Field(out, "size_after_quantize"), 0.35 * Field(out, "size_before_quantize")) << out;
  EXPECT_NEAR(Field(out, "accuracy_after_quantize"), Field(out, "accuracy_before_quantize"), 0.01)
      << out;
  EXPECT_TRUE(fs::exists(model + "/model.mlp"));
  EXPECT_NE(ReadFile(model + "/config.toml").find("flavor = 'mlp'"), std::string::npos);

  auto eval = RunClosedloop("eval --model " + model + " --input " + kData +
                            "/test.csv --label-col category --output " + dir_.File("e.json"));
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  auto j = ParseJson(ReadFile(dir_.File("e.json")));
  EXPECT_NEAR(j->Num("accuracy"), Field(out, "test_accuracy"), 1e-5);  // the same model and code

  Start(kTestConfig, /*install_model=*/false);
  auto r = Predict(R"({"model":"intent","text":"my card has not arrived yet"})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto p = ParseJson(r.body);
  EXPECT_EQ(p->Str("label"), "card_arrival") << r.body;
  EXPECT_GT(p->Num("confidence"), 0.3) << r.body;
  auto oip = Fetch(port_, "POST", "/v2/models/intent/infer",
                   R"({"inputs":[{"name":"text","datatype":"BYTES","shape":[2],)"
                   R"("data":["i want a refund","my card has not arrived"]}]})");
  ASSERT_EQ(oip.status, 200) << oip.body;
  EXPECT_NE(oip.body.find("\"card_arrival\""), std::string::npos) << oip.body;
  EXPECT_NE(oip.body.find("\"probabilities\""), std::string::npos) << oip.body;
  // MC dropout over the two members: an inquiry between intents is less certain
  // (higher BALD mutual information) than a clear one; the same text, the same answer.
  auto clear =
      Predict(R"({"model":"intent","text":"my card has not arrived yet","uncertainty":true})");
  auto vague = Predict(R"({"model":"intent","text":"money card","uncertainty":true})");
  ASSERT_EQ(clear.status, 200) << clear.body;
  ASSERT_EQ(vague.status, 200) << vague.body;
  auto cu = ParseJson(clear.body), vu = ParseJson(vague.body);
  simdjson::dom::object cu_o, vu_o;
  ASSERT_FALSE(cu->root["uncertainty"].get(cu_o)) << clear.body;
  ASSERT_FALSE(vu->root["uncertainty"].get(vu_o)) << vague.body;
  EXPECT_EQ(int64_t(cu_o["passes"]), 40);  // 20 passes x 2 members
  EXPECT_LT(double(cu_o["mutual_information"]), double(vu_o["mutual_information"])) << vague.body;
  EXPECT_LT(double(cu_o["predictive_entropy"]), double(vu_o["predictive_entropy"]));
  EXPECT_GE(double(cu_o["mutual_information"]), 0.0);
  auto again = Predict(R"({"model":"intent","text":"money card","uncertainty":true})");
  EXPECT_EQ(again.body.substr(again.body.find("\"uncertainty\"")).substr(0, 120),
            vague.body.substr(vague.body.find("\"uncertainty\"")).substr(0, 120));
  auto bad = Predict(R"({"model":"intent","text":"hi","uncertainty":"yes"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("field 'uncertainty' must be a boolean"), std::string::npos);
  // Text the featurizer knows nothing of is a clear 400, and the server stays up.
  auto unknown = Predict(R"({"model":"intent","text":"\u00e4\u00f6\u00fc"})");
  EXPECT_EQ(unknown.status, 400) << unknown.body;
  EXPECT_NE(unknown.body.find("text"), std::string::npos) << unknown.body;
  EXPECT_EQ(Predict(R"({"model":"intent","text":"refund please"})").status, 200);
}

// Five Banking77 intents held out of training play the inquiries that belong to
// no intent: `eval --oos` reports how the confidence threshold rejects them.
TEST_F(MlpTrainingTest, HeldOutIntentsAreReportedAsOutOfScope) {
  const size_t dropped = SplitByLabel(kData + "/train.csv", HeldOutIntents(), dir_.File("held.csv"),
                                      dir_.File("in_scope.csv"));
  ASSERT_GT(dropped, 300u);
  const std::string model = dir_.File("m/1");
  auto [rc, out] = RunClosedloop("train text --model mlp --input " + dir_.File("in_scope.csv") +
                                 " --label-col category --output " + model +
                                 " --hidden 64 --max-epochs 4 --no-tracking");
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(Field(out, "labels"), 72) << out;
  auto eval = RunClosedloop("eval --oos --threshold 0.5 --model " + model + " --input " + kData +
                            "/test.csv --label-col category");
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  auto j = ParseJson(eval.output);
  EXPECT_EQ(j->Num("oos_rows"), 200);  // 40 test rows of each held-out intent
  EXPECT_EQ(j->Num("in_scope_rows"), 3080 - 200);
  EXPECT_GT(j->Num("auroc"), 0.75) << eval.output;
  EXPECT_GT(j->Num("oos_recall"), 0.3) << eval.output;
  EXPECT_GT(j->Num("oos_precision"), 0.2) << eval.output;
  EXPECT_LE(j->Num("in_scope_accuracy"), j->Num("in_scope_coverage"));
  simdjson::dom::array curve;
  ASSERT_FALSE(j->root["curve"].get(curve));
  ASSERT_EQ(curve.size(), 19u);
  double last_recall = -1;
  for (auto p : curve) {  // a higher threshold rejects more
    EXPECT_GE(double(p["oos_recall"]), last_recall);
    last_recall = double(p["oos_recall"]);
  }
  // The threshold fitted at training keeps 95% of in-scope validation inquiries;
  // eval uses it by default, and other scores rank the same rows.
  ASSERT_GT(Field(out, "oos_threshold"), 0.05) << out;
  EXPECT_NE(ReadFile(model + "/config.toml").find("oos_score = 'max_probability'"),
            std::string::npos);
  auto fitted = RunClosedloop("eval --oos --model " + model + " --input " + kData +
                              "/test.csv --label-col category");
  ASSERT_EQ(fitted.exit_code, 0) << fitted.output;
  auto fj = ParseJson(fitted.output);
  EXPECT_NEAR(fj->Num("threshold"), Field(out, "oos_threshold"), 1e-6);
  EXPECT_NEAR(fj->Num("in_scope_coverage"), 0.95, 0.03) << fitted.output;  // as on validation
  for (const char* score : {"max_logit", "energy"}) {
    auto e = RunClosedloop(std::string("eval --oos --score ") + score + " --model " + model +
                           " --input " + kData + "/test.csv --label-col category");
    ASSERT_EQ(e.exit_code, 0) << e.output;
    auto ej = ParseJson(e.output);
    EXPECT_EQ(ej->Str("score"), score);
    EXPECT_GT(ej->Num("auroc"), 0.7) << e.output;
  }

  // The support app escalates what the model finds out of scope.
  WriteFile(dir_.File("support.toml"),
            "intent_model = \"oos-model\"\nsentiment_model = \"\"\n"
            "confidence_threshold = 0.0\ndefault_reply = \"About {intent}.\"\n");
  std::filesystem::create_directories(dir_.File("models/oos-model"));
  std::filesystem::copy(model, dir_.File("models/oos-model/1"),
                        std::filesystem::copy_options::recursive);
  Start(std::string(kTestConfig) + "[support]\nrules_file = \"" + dir_.File("support.toml") +
            "\"\n[feedback]\nsentiment_model = \"\"\n",
        /*install_model=*/false);
  int oos_escalated = 0, in_escalated = 0, oos_n = 0, in_n = 0;
  for (const TextLabel& row : ReadTextLabelRows(kData + "/test.csv")) {
    const bool oos = HeldOutIntents().count(row.label) > 0;
    if ((oos ? oos_n : in_n) >= 60) continue;
    auto r = Fetch(port_, "POST", "/v1/support/inquiries",
                   R"({"text":)" + JsonString(row.text) + R"(,"customer_id":"c"})");
    ASSERT_EQ(r.status, 200) << r.body;
    const bool escalated = r.body.find(R"("out_of_scope")") != std::string::npos;
    (oos ? oos_escalated : in_escalated) += escalated;
    (oos ? oos_n : in_n)++;
  }
  ASSERT_EQ(oos_n, 60);
  // /v1/predict shows the same verdict.
  auto verdict =
      ParseJson(Predict(R"({"model":"oos-model","text":"my card has not arrived yet"})").body);
  simdjson::dom::object scope;
  ASSERT_FALSE(verdict->root["scope"].get(scope));
  EXPECT_EQ(std::string_view(scope["score"]), "max_probability");
  EXPECT_NEAR(double(scope["threshold"]), Field(out, "oos_threshold"), 1e-6);
  EXPECT_EQ(bool(scope["out_of_scope"]), double(scope["value"]) < double(scope["threshold"]));
  EXPECT_GT(oos_escalated, 2 * in_escalated) << oos_escalated << " vs " << in_escalated;
  EXPECT_LT(in_escalated, 12);  // about 5% of in-scope inquiries

  // Data with nothing out of scope is a clear error.
  auto none = RunClosedloop("eval --oos --model " + model + " --input " +
                            dir_.File("in_scope.csv") + " --label-col category");
  EXPECT_EQ(none.exit_code, 1);
  EXPECT_NE(none.output.find("no out-of-scope rows"), std::string::npos) << none.output;
}

// Data with an "oos" class: the model learns it like an intent, eval counts it as
// out of scope (never as an answer), and the support app escalates it.
TEST_F(MlpTrainingTest, AnOosClassInTheDataIsEscalatedAsOutOfScope) {
  auto relabel = [](const std::string& from, const std::string& to) {
    std::string csv = "text,category\n";
    for (const TextLabel& r : ReadTextLabelRows(from)) {
      std::string quoted = "\"";
      for (char c : r.text) quoted += c == '"' ? std::string("\"\"") : std::string(1, c);
      csv += quoted + "\"," + (HeldOutIntents().count(r.label) ? "oos" : r.label) + "\n";
    }
    WriteFile(to, csv);
  };
  relabel(kData + "/train.csv", dir_.File("train_oos.csv"));
  relabel(kData + "/test.csv", dir_.File("test_oos.csv"));
  const std::string model = dir_.File("models/intent-oos/1");
  auto [rc, out] = RunClosedloop("train text --model mlp --input " + dir_.File("train_oos.csv") +
                                 " --label-col category --output " + model +
                                 " --hidden 64 --max-epochs 4 --no-tracking");
  ASSERT_EQ(rc, 0) << out;
  EXPECT_EQ(Field(out, "labels"), 73) << out;  // 72 intents and oos
  auto eval = RunClosedloop("eval --oos --oos-label oos --model " + model + " --input " +
                            dir_.File("test_oos.csv") + " --label-col category");
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  auto j = ParseJson(eval.output);
  EXPECT_EQ(j->Num("oos_rows"), 200);
  EXPECT_GT(j->Num("auroc"), 0.8) << eval.output;

  WriteFile(dir_.File("support.toml"),
            "intent_model = \"intent-oos\"\nsentiment_model = \"\"\n"
            "confidence_threshold = 0.0\ndefault_reply = \"About {intent}.\"\n");
  Start(std::string(kTestConfig) + "[support]\nrules_file = \"" + dir_.File("support.toml") +
            "\"\n[feedback]\nsentiment_model = \"\"\n",
        /*install_model=*/false);
  int as_oos = 0, escalated = 0;
  for (const TextLabel& row : ReadTextLabelRows(dir_.File("test_oos.csv"))) {
    if (row.label != "oos") continue;
    auto r = Fetch(port_, "POST", "/v1/support/inquiries",
                   R"({"text":)" + JsonString(row.text) + R"(,"customer_id":"c"})");
    ASSERT_EQ(r.status, 200) << r.body;
    auto p = ParseJson(r.body);
    if (p->Str("intent") != "oos") continue;
    ++as_oos;
    escalated +=
        p->Str("decision") == "escalate" && r.body.find(R"("out_of_scope")") != std::string::npos;
  }
  EXPECT_GT(as_oos, 100);        // most of the 200
  EXPECT_EQ(escalated, as_oos);  // every inquiry classified as oos is escalated
}

TEST_F(MlpTrainingTest, BadTrainingDataNamesTheRowAndLeavesNoModel) {
  struct Case {
    std::string content;
    std::string message;
  };
  const std::vector<Case> cases = {
      {"text,label\nhello there,a\nhi there,a\nhey there,a\n",
       "column 'label' has 1 label(s) in the training rows; a classifier needs at least 2"},
      {"text,label\nhello,a\nhi,a\nbye,b\n  ,b\nciao,b\n", "column 'text' is empty"},
      {"text,label\nhello,a\nhi,a\nbye,b\n", "label 'b' has 1 example"},
  };
  for (const auto& c : cases) {
    WriteFile(dir_.File("d.csv"), c.content);
    auto [rc, out] =
        RunClosedloop("train text --model mlp --input " + dir_.File("d.csv") +
                      " --validation-fraction 0.5 --output " + dir_.File("m") + " --no-tracking");
    EXPECT_EQ(rc, 1) << c.message << "\n" << out;
    EXPECT_NE(out.find(c.message), std::string::npos) << out;
    EXPECT_FALSE(fs::exists(dir_.File("m"))) << c.message;
  }
  for (const auto& e : fs::directory_iterator(dir_.path())) {
    EXPECT_EQ(e.path().filename().string().find(".m.training"), std::string::npos);
  }
}

}  // namespace
}  // namespace closedloop::testing
