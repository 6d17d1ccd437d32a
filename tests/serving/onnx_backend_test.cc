#include "serving/onnx_backend.h"

#include <gtest/gtest.h>

#include "serving/onnx_check.h"
#include "support/onnx_models.h"
#include "support/temp_dir.h"

namespace closedloop {
namespace {

TEST(OnnxBackendTest, MlpMatchesIndependentComputation) {
  testing::TempDir dir;
  auto mlp = testing::WriteMlpModel(dir.File("mlp.onnx"));
  auto b = OnnxBackend::Load(dir.File("mlp.onnx"), {"a", "b", "c"});
  ASSERT_TRUE(b.ok()) << b.status().message();
  ASSERT_EQ((*b)->InputSpecs().size(), 1u);
  EXPECT_EQ((*b)->InputSpecs()[0].shape, (std::vector<int64_t>{-1, 4}));
  EXPECT_EQ((*b)->OutputSpecs()[0].shape, (std::vector<int64_t>{-1, 3}));
  std::vector<float> x = {0.5f, -1, 2, 0.25f, 1, 1, -0.5f, 3, -2, 0, 0.1f, 0.7f};
  auto out = (*b)->Infer({Tensor{"X", DataType::kFp32, {3, 4}, x}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  ASSERT_EQ(out->size(), 1u);
  EXPECT_EQ((*out)[0].shape, (std::vector<int64_t>{3, 3}));
  auto want = testing::MlpReference(mlp, x, 3);
  const auto& got = *(*out)[0].As<float>();
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5) << i;
}

TEST(OnnxBackendTest, ConvMatchesIndependentComputation) {
  testing::TempDir dir;
  auto conv = testing::WriteConvModel(dir.File("conv.onnx"));
  auto b = OnnxBackend::Load(dir.File("conv.onnx"), {});
  ASSERT_TRUE(b.ok()) << b.status().message();
  std::vector<float> x(25);
  for (int i = 0; i < 25; ++i) x[i] = static_cast<float>((i * 7) % 11) / 5.0f - 1;
  auto out = (*b)->Infer({Tensor{"X", DataType::kFp32, {1, 1, 5, 5}, x}});
  ASSERT_TRUE(out.ok()) << out.status().message();
  EXPECT_EQ((*out)[0].shape, (std::vector<int64_t>{1, 2, 3, 3}));
  auto want = testing::ConvReference(conv, x);
  const auto& got = *(*out)[0].As<float>();
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-5) << i;
}

TEST(OnnxCheckTest, SupportedAndUnsupportedModels) {
  testing::TempDir dir;
  testing::WriteMlpModel(dir.File("mlp.onnx"));
  auto ok = CheckOnnxModel(dir.File("mlp.onnx"));
  EXPECT_TRUE(ok.supported) << FormatOnnxCheck("mlp.onnx", ok);
  EXPECT_EQ(ok.graph.operators.at("Gemm"), 2);
  ASSERT_EQ(ok.output_shapes.size(), 1u);
  EXPECT_EQ(ok.output_shapes[0].second, (std::vector<int64_t>{1, 3}));

  testing::WriteLayerNormModel(dir.File("ln.onnx"));
  auto ln = CheckOnnxModel(dir.File("ln.onnx"));
  EXPECT_FALSE(ln.supported);
  EXPECT_TRUE(ln.unsupported.count("LayerNormalization")) << FormatOnnxCheck("ln.onnx", ln);
  EXPECT_NE(FormatOnnxCheck("ln.onnx", ln).find("LayerNormalization x1  UNSUPPORTED"),
            std::string::npos);

  testing::WriteFile(dir.File("junk.onnx"), "definitely not protobuf \xff\xff\xff");
  auto junk = CheckOnnxModel(dir.File("junk.onnx"));
  EXPECT_FALSE(junk.supported);
  EXPECT_NE(junk.error.find("not an ONNX model"), std::string::npos) << junk.error;
  EXPECT_FALSE(OnnxBackend::Load(dir.File("junk.onnx"), {}).ok());
}

}  // namespace
}  // namespace closedloop
