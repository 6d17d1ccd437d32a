// ONNX through the real binary: `closedloop onnx check` and serving over OIP.
#include <cstdio>
#include <filesystem>

#include "integration/fixture.h"
#include "support/command.h"
#include "support/onnx_models.h"

namespace closedloop::testing {
namespace {

class OnnxServingTest : public ServerFixture {};

TEST_F(OnnxServingTest, CheckCommandAnswersBeforeDeployment) {
  WriteMlpModel(dir_.File("mlp.onnx"));
  auto [ok_rc, ok_out] = RunClosedloop("onnx check " + dir_.File("mlp.onnx"));
  EXPECT_EQ(ok_rc, 0) << ok_out;
  EXPECT_NE(ok_out.find("Gemm x2  ok"), std::string::npos) << ok_out;
  EXPECT_NE(ok_out.find("run on zeros: ok"), std::string::npos);
  EXPECT_NE(ok_out.find("result: SUPPORTED"), std::string::npos);

  WriteLayerNormModel(dir_.File("ln.onnx"));
  auto [bad_rc, bad_out] = RunClosedloop("onnx check " + dir_.File("ln.onnx"));
  EXPECT_EQ(bad_rc, 1) << bad_out;
  EXPECT_NE(bad_out.find("LayerNormalization x1  UNSUPPORTED"), std::string::npos) << bad_out;
  EXPECT_NE(bad_out.find("result: NOT SUPPORTED"), std::string::npos);

  auto [missing_rc, missing_out] = RunClosedloop("onnx check " + dir_.File("none.onnx"));
  EXPECT_EQ(missing_rc, 1);
  EXPECT_NE(missing_out.find("does not exist"), std::string::npos) << missing_out;
}

TEST_F(OnnxServingTest, ServesOnnxOverOipWithShapeChecks) {
  std::filesystem::create_directories(dir_.File("models/mlp/1"));
  Mlp mlp = WriteMlpModel(dir_.File("models/mlp/1/model.onnx"));
  WriteFile(dir_.File("models/mlp/1/config.toml"), "flavor = \"onnx\"\n");
  Start();
  auto meta = Fetch(port_, "GET", "/v2/models/mlp");
  ASSERT_EQ(meta.status, 200) << meta.body;
  EXPECT_NE(meta.body.find(R"("platform":"onnx")"), std::string::npos);
  EXPECT_NE(meta.body.find(R"({"name":"X","datatype":"FP32","shape":[-1,4]})"), std::string::npos)
      << meta.body;
  std::vector<float> x = {0.5f, -1, 2, 0.25f, 1, 1, -0.5f, 3};
  auto r = Fetch(port_, "POST", "/v2/models/mlp/infer",
                 R"({"inputs":[{"name":"X","shape":[2,4],"datatype":"FP32",)"
                 R"("data":[[0.5,-1,2,0.25],[1,1,-0.5,3]]}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = ParseJson(r.body);
  EXPECT_EQ(simdjson::to_string(j->root["outputs"].at(0)["shape"]), "[2,3]");
  auto want = MlpReference(mlp, x, 2);
  for (size_t i = 0; i < want.size(); ++i) {
    double got = 0;
    ASSERT_FALSE(j->root["outputs"].at(0)["data"].at(i).get(got));
    EXPECT_NEAR(got, want[i], 1e-5);
  }
  auto wrong =
      Fetch(port_, "POST", "/v2/models/mlp/infer",
            R"({"inputs":[{"name":"X","shape":[1,5],"datatype":"FP32","data":[1,2,3,4,5]}]})");
  EXPECT_EQ(wrong.status, 400);
  EXPECT_NE(wrong.body.find("input 'X' must have shape [-1,4], not [1,5]"), std::string::npos);
  auto fp64 =
      Fetch(port_, "POST", "/v2/models/mlp/infer",
            R"({"inputs":[{"name":"X","shape":[1,4],"datatype":"FP64","data":[1,2,3,4]}]})");
  EXPECT_EQ(fp64.status, 400);
  EXPECT_NE(fp64.body.find("must be FP32, not FP64"), std::string::npos);
  EXPECT_EQ(Predict(R"({"model":"mlp","text":"hi"})").status, 400);
}

TEST_F(OnnxServingTest, UnsupportedModelIsReportedOthersServe) {
  std::filesystem::create_directories(dir_.File("models/ln/1"));
  WriteLayerNormModel(dir_.File("models/ln/1/model.onnx"));
  WriteFile(dir_.File("models/ln/1/config.toml"), "flavor = \"onnx\"\n");
  Start();
  auto models = Fetch(port_, "GET", "/v1/models");
  EXPECT_NE(models.body.find("LayerNormalization"), std::string::npos) << models.body;
  EXPECT_NE(models.body.find("closedloop onnx check"), std::string::npos);
  EXPECT_EQ(Predict(R"({"model":"support-intent","text":"card"})").status, 200);
}

}  // namespace
}  // namespace closedloop::testing
