#include "serving/fasttext_backend.h"

#include <gtest/gtest.h>

#include "support/temp_dir.h"

namespace closedloop {
namespace {

const std::string kModel = std::string(CLOSEDLOOP_TEST_MODELS) + "/support-intent/1/model.bin";

TEST(FastTextBackendTest, PredictsProbabilitiesInOrder) {
  auto b = FastTextBackend::Load(kModel);
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ((*b)->labels().size(), 77u);
  EXPECT_EQ((*b)->flavor(), "fasttext");
  auto scores = (*b)->PredictText("I still have not received my new card", 5);
  ASSERT_TRUE(scores.ok());
  ASSERT_EQ(scores->size(), 5u);
  float sum = 0;
  for (size_t i = 0; i < scores->size(); ++i) {
    EXPECT_GE((*scores)[i].p, 0.f);
    EXPECT_LE((*scores)[i].p, 1.f);
    if (i > 0) {
      EXPECT_GE((*scores)[i - 1].p, (*scores)[i].p);
    }
    sum += (*scores)[i].p;
  }
  EXPECT_LE(sum, 1.0001f);
  auto all = (*b)->PredictText("card", 0);  // 0: every label
  ASSERT_TRUE(all.ok());
  EXPECT_EQ(all->size(), 77u);
  float total = 0;
  for (auto& s : *all) total += s.p;
  EXPECT_NEAR(total, 1.0f, 1e-3);
}

TEST(FastTextBackendTest, SentenceVectorHasModelDimension) {
  auto b = FastTextBackend::Load(kModel);
  ASSERT_TRUE(b.ok());
  auto v = (*b)->SentenceVector("my card is lost");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(static_cast<int>(v->size()), (*b)->dimension());
}

TEST(FastTextBackendTest, CorruptOrMissingFilesAreErrors) {
  testing::TempDir dir;
  EXPECT_EQ(FastTextBackend::Load(dir.File("none.bin")).status().code(), StatusCode::kNotFound);
  testing::WriteFile(dir.File("junk.bin"), "this is not a model");
  auto junk = FastTextBackend::Load(dir.File("junk.bin"));
  ASSERT_FALSE(junk.ok());
  EXPECT_NE(junk.status().message().find("not a fastText model"), std::string::npos);
  // A real header followed by garbage: fastText's own error surfaces as a Status.
  std::string head = testing::ReadFile(kModel).substr(0, 64);
  testing::WriteFile(dir.File("trunc.bin"), head);
  EXPECT_FALSE(FastTextBackend::Load(dir.File("trunc.bin")).ok());
}

}  // namespace
}  // namespace closedloop

namespace closedloop {
namespace {

TEST(FastTextBackendTest, DenseHeadAgreesWithFastTextPredict) {
  auto b = FastTextBackend::Load(kModel);
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE((*b)->uses_dense_head());
  for (const char* text :
       {"I still have not received my new card", "Why was I charged a fee?", "refund",
        "top up failed twice!!", "what is the exchange rate for USD", "x", "Café ünïcode"}) {
    auto ours = (*b)->PredictText(text, 5);
    auto theirs = (*b)->PredictTextWithFastText(text, 5);
    ASSERT_TRUE(ours.ok() && theirs.ok()) << text;
    ASSERT_EQ(ours->size(), theirs->size());
    for (size_t i = 0; i < ours->size(); ++i) {
      EXPECT_NEAR((*ours)[i].p, (*theirs)[i].p, 2e-6) << text << " rank " << i;
      // Same label unless two probabilities tie.
      if (i + 1 < ours->size() && std::abs((*ours)[i].p - (*ours)[i + 1].p) > 1e-6) {
        EXPECT_EQ((*ours)[i].index, (*theirs)[i].index) << text << " rank " << i;
      }
    }
  }
}

}  // namespace
}  // namespace closedloop

namespace closedloop {
namespace {

TEST(FastTextBackendTest, TemperatureSoftensWithoutChangingTheRanking) {
  auto raw = FastTextBackend::Load(kModel, 1.0);
  auto soft = FastTextBackend::Load(kModel, 2.0);
  ASSERT_TRUE(raw.ok() && soft.ok());
  auto a = (*raw)->PredictText("I still have not received my new card", 5);
  auto b = (*soft)->PredictText("I still have not received my new card", 5);
  ASSERT_TRUE(a.ok() && b.ok());
  for (size_t i = 0; i < 5; ++i) EXPECT_EQ((*a)[i].index, (*b)[i].index);
  EXPECT_LT((*b)[0].p, (*a)[0].p);
  auto all = (*soft)->PredictText("card", 0);
  float total = 0;
  for (const auto& s : *all) total += s.p;
  EXPECT_NEAR(total, 1.0f, 1e-3);
  // The fastText fallback path applies the same temperature.
  auto fb = (*soft)->PredictTextWithFastText("I still have not received my new card", 5);
  ASSERT_TRUE(fb.ok());
  EXPECT_NEAR((*fb)[0].p, (*b)[0].p, 1e-4);
  EXPECT_FALSE(FastTextBackend::Load(kModel, 0.0).ok());
}

}  // namespace
}  // namespace closedloop

namespace closedloop {
namespace {

TEST(FastTextBackendTest, QuantizedFtzModelLoadsAndAgrees) {
  testing::TempDir dir;
  testing::QuantizeFastTextModel(kModel, dir.File("model.ftz"));
  auto q = FastTextBackend::Load(dir.File("model.ftz"));
  ASSERT_TRUE(q.ok()) << q.status().message();
  EXPECT_FALSE((*q)->uses_dense_head());  // quantized: fastText's own predict
  auto full = FastTextBackend::Load(kModel);
  auto a = (*q)->PredictText("I still have not received my new card", 3);
  auto b = (*full)->PredictText("I still have not received my new card", 3);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ((*q)->labels(), (*full)->labels());
  EXPECT_NEAR((*a)[0].p, (*b)[0].p, 0.1);  // quantization approximates the weights
}

}  // namespace
}  // namespace closedloop
