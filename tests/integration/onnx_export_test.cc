// `closedloop export onnx` through the real binary: an MLP ensemble and a fastText
// model trained here are exported, pass `closedloop onnx check`, agree with the
// native models within 1e-5 on every Banking77 test text, keep their accuracy
// (INT8 too, at about a quarter of the size), and serve through the ONNX backend.
#include <filesystem>
#include <numeric>

#include "integration/fixture.h"
#include "support/command.h"

namespace closedloop::testing {
namespace {

namespace fs = std::filesystem;

const std::string kData = std::string(CLOSEDLOOP_SOURCE_DIR) + "/examples/support/data";

class OnnxExportTest : public ServerFixture {
 protected:
  std::string Verify() const {
    return " --verify " + kData + "/test.csv --text-col text --label-col category";
  }
};

TEST_F(OnnxExportTest, MlpEnsembleExportsAgreeWithTheNativeModelAndServe) {
  auto train =
      RunClosedloop("train text --model mlp --input " + kData +
                    "/train.csv --label-col category --output " + dir_.File("src/intent/1") +
                    " --hidden 64 --max-epochs 3 --ensemble 2 --threads 2 --no-tracking");
  ASSERT_EQ(train.exit_code, 0) << train.output;

  auto f32 = RunClosedloop("export onnx intent@1 --models " + dir_.File("src") + " --output " +
                           dir_.File("models/intent_onnx/1") + Verify());
  ASSERT_EQ(f32.exit_code, 0) << f32.output;
  EXPECT_EQ(Field(f32.output, "rows"), 3080) << f32.output;
  EXPECT_LE(Field(f32.output, "max_abs_diff"), 1e-5) << f32.output;
  EXPECT_EQ(Field(f32.output, "top_label_agreement"), 1.0) << f32.output;
  EXPECT_EQ(Field(f32.output, "onnx_accuracy"), Field(f32.output, "native_accuracy"));
  EXPECT_GT(Field(f32.output, "onnx_accuracy"), 0.85) << f32.output;
  const std::string onnx_file = dir_.File("models/intent_onnx/1/model.onnx");
  auto check = RunClosedloop("onnx check " + onnx_file);
  EXPECT_EQ(check.exit_code, 0) << check.output;
  EXPECT_NE(check.output.find("Gemm"), std::string::npos) << check.output;

  auto int8 = RunClosedloop("export onnx " + dir_.File("src/intent/1") + " --int8 --output " +
                            dir_.File("models/intent_int8/1") + Verify());
  ASSERT_EQ(int8.exit_code, 0) << int8.output;
  EXPECT_EQ(Field(int8.output, "int8"), 1);
  EXPECT_LT(Field(int8.output, "bytes"), 0.35 * Field(f32.output, "bytes")) << int8.output;
  EXPECT_LE(Field(int8.output, "max_abs_diff"), 1e-5) << int8.output;  // vs the INT8 native
  EXPECT_NEAR(Field(int8.output, "onnx_accuracy"), Field(int8.output, "accuracy_before_int8"), 0.01)
      << int8.output;

  // Served by the ONNX backend: the input is the TF-IDF vector, the output the
  // ensemble's probabilities.
  Start(kTestConfig, /*install_model=*/false);
  auto meta = Fetch(port_, "GET", "/v2/models/intent_onnx");
  ASSERT_EQ(meta.status, 200) << meta.body;
  EXPECT_NE(meta.body.find("\"features\""), std::string::npos) << meta.body;
  const int width = static_cast<int>(Field(f32.output, "width"));
  std::string data;
  for (int j = 0; j < width; ++j) data += (j == 7 ? "1," : "0,");  // one n-gram
  data.pop_back();
  auto r = Fetch(port_, "POST", "/v2/models/intent_onnx/infer",
                 R"({"inputs":[{"name":"features","datatype":"FP32","shape":[1,)" +
                     std::to_string(width) + R"(],"data":[)" + data + "]}]}");
  ASSERT_EQ(r.status, 200) << r.body.substr(0, 300);
  auto j = ParseJson(r.body);
  simdjson::dom::array outputs;
  ASSERT_FALSE(j->root["outputs"].get(outputs));
  simdjson::dom::element probs = outputs.at(0);
  EXPECT_EQ(std::string(std::string_view(probs["name"])), "probabilities");
  simdjson::dom::array values = probs["data"];
  ASSERT_EQ(values.size(), 77u);
  double sum = 0;
  for (auto v : values) sum += double(v);
  EXPECT_NEAR(sum, 1.0, 1e-4);  // a distribution
  auto wrong = Fetch(port_, "POST", "/v2/models/intent_onnx/infer",
                     R"({"inputs":[{"name":"features","datatype":"FP32","shape":[1,3],)"
                     R"("data":[1,2,3]}]})");
  EXPECT_EQ(wrong.status, 400) << wrong.body;
}

TEST_F(OnnxExportTest, FastTextLinearHeadExportsOverTheSentenceVector) {
  auto train = RunClosedloop("train text --input " + kData +
                             "/train.csv --label-col category --dim 32 --epoch 5 --output " +
                             dir_.File("src/ft/1") + " --no-tracking");
  ASSERT_EQ(train.exit_code, 0) << train.output;
  auto out = RunClosedloop("export onnx ft@1 --models " + dir_.File("src") + " --output " +
                           dir_.File("out/ft") + Verify());
  ASSERT_EQ(out.exit_code, 0) << out.output;
  EXPECT_NE(out.output.find("input: sentence_vector [N, 32]"), std::string::npos) << out.output;
  EXPECT_LE(Field(out.output, "max_abs_diff"), 1e-5) << out.output;
  EXPECT_EQ(Field(out.output, "onnx_accuracy"), Field(out.output, "native_accuracy"));
  EXPECT_NE(ReadFile(dir_.File("out/ft/config.toml")).find("flavor = 'onnx'"), std::string::npos);
}

TEST_F(OnnxExportTest, WhatCannotBeExportedIsAClearErrorAndWritesNothing) {
  auto train = RunClosedloop("train text --input " + kData +
                             "/train.csv --label-col category --dim 8 --epoch 1 --output " +
                             dir_.File("src/ft/1") + " --no-tracking");
  ASSERT_EQ(train.exit_code, 0) << train.output;
  struct Case {
    std::string args, message;
  };
  const std::vector<Case> cases = {
      {"nope@1 --models " + dir_.File("src"), "no model version directory"},
      {"nope", "neither a model version directory nor NAME@VERSION"},
      {"ft@1 --int8 --models " + dir_.File("src"), "--int8 applies to mlp models only"},
      {"ft@1 --models " + dir_.File("src") + " --verify " + kData + "/test.csv --text-col x",
       "'x'"},
      {"ft@1 --models " + dir_.File("src") + " --verify " + kData +
           "/test.csv --label-col category --tolerance -1",
       "differ from the native model's"},
  };
  for (const Case& c : cases) {
    auto r = RunClosedloop("export onnx " + c.args + " --output " + dir_.File("out/x"));
    EXPECT_EQ(r.exit_code, 1) << c.args << "\n" << r.output;
    EXPECT_NE(r.output.find(c.message), std::string::npos) << c.args << "\n" << r.output;
    EXPECT_FALSE(fs::exists(dir_.File("out/x"))) << c.args;
  }
  fs::create_directories(dir_.File("out/taken"));
  auto taken = RunClosedloop("export onnx ft@1 --models " + dir_.File("src") + " --output " +
                             dir_.File("out/taken"));
  EXPECT_EQ(taken.exit_code, 1) << taken.output;
  fs::create_directories(dir_.File("src/xgb/1"));
  WriteFile(dir_.File("src/xgb/1/config.toml"), "flavor = \"xgboost\"\n");
  auto xgb = RunClosedloop("export onnx xgb@1 --models " + dir_.File("src") + " --output " +
                           dir_.File("out/x"));
  EXPECT_EQ(xgb.exit_code, 1);
  EXPECT_NE(xgb.output.find("'xgboost' cannot be exported"), std::string::npos) << xgb.output;
}

}  // namespace
}  // namespace closedloop::testing
