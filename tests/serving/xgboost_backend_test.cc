#include "serving/xgboost_backend.h"

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "serving/model_repository.h"
#include "support/temp_dir.h"
#include "support/xgboost_model.h"

namespace closedloop {
namespace {

class XGBoostBackendTest : public ::testing::Test {
 protected:
  std::unique_ptr<XGBoostBackend> Load(const std::string& objective,
                                       std::vector<std::string> labels = {}) {
    dir_ = tmp_.File(objective.substr(0, objective.find(':')));
    testing::WriteXgboostModel(dir_, objective);
    auto b = XGBoostBackend::Load(dir_ + "/model.json", labels);
    EXPECT_TRUE(b.ok()) << b.status().message();
    return b.ok() ? std::move(b).value() : nullptr;
  }
  testing::TempDir tmp_;
  std::string dir_;
};

const std::vector<std::vector<float>> kRows = {
    {400, 3, 1}, {20, 12, 0}, {300, 23, 1}, {260, 1, 0}, {std::nanf(""), 5, 1}};

TEST_F(XGBoostBackendTest, BinaryClassifierMatchesXGBoostAndShapAddsUp) {
  auto b = Load("binary:logistic", {"legit", "fraud"});
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->feature_names(), (std::vector<std::string>{"amount", "hour", "foreign"}));
  EXPECT_TRUE(b->is_classifier());
  for (const auto& row : kRows) {
    auto p = b->PredictRow(row, /*explain=*/true);
    ASSERT_TRUE(p.ok()) << p.status().message();
    auto ref = testing::XgboostReference(dir_ + "/model.json", row, 1, 0);
    float fraud = p->scores[0].index == 1 ? p->scores[0].p : p->scores[1].p;
    EXPECT_NEAR(fraud, ref[0], 1e-6);
    EXPECT_NEAR(p->scores[0].p + p->scores[1].p, 1.0, 1e-6);
    ASSERT_EQ(p->contributions.size(), 4u);  // 3 features + bias
    float margin = std::accumulate(p->contributions.begin(), p->contributions.end(), 0.0f);
    EXPECT_NEAR(1 / (1 + std::exp(-margin)), fraud, 1e-4);  // SHAP values sum to the margin
  }
  EXPECT_EQ(b->labels(), (std::vector<std::string>{"legit", "fraud"}));
  auto fraud = b->PredictRow({450, 2, 1}, false);
  EXPECT_EQ(b->labels()[fraud->scores[0].index], "fraud");
}

TEST_F(XGBoostBackendTest, MulticlassAndRegression) {
  auto m = Load("multi:softprob");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->labels(), (std::vector<std::string>{"0", "1", "2"}));
  auto p = m->PredictRow({420, 1, 0}, true);
  ASSERT_TRUE(p.ok());
  ASSERT_EQ(p->scores.size(), 3u);
  EXPECT_EQ(p->scores[0].index, 2);
  auto ref = testing::XgboostReference(dir_ + "/model.json", {420, 1, 0}, 1, 0);
  EXPECT_NEAR(p->scores[0].p, ref[2], 1e-6);
  EXPECT_EQ(p->contributions.size(), 4u);

  auto r = Load("reg:squarederror");
  ASSERT_NE(r, nullptr);
  EXPECT_FALSE(r->is_classifier());
  for (const auto& row : kRows) {
    auto v = r->PredictRow(row, true);
    ASSERT_TRUE(v.ok());
    EXPECT_NEAR(v->value, testing::XgboostReference(dir_ + "/model.json", row, 1, 0)[0], 1e-3);
    float sum = std::accumulate(v->contributions.begin(), v->contributions.end(), 0.0f);
    EXPECT_NEAR(sum, v->value, 1e-2);
  }
}

TEST_F(XGBoostBackendTest, InferBatchAndErrors) {
  auto b = Load("binary:logistic", {"legit", "fraud"});
  ASSERT_NE(b, nullptr);
  Tensor x{"features", DataType::kFp32, {2, 3}, std::vector<float>{400, 3, 1, 20, 12, 0}};
  auto out = b->Infer({x});
  ASSERT_TRUE(out.ok());
  ASSERT_EQ(out->size(), 3u);
  EXPECT_EQ((*out)[2].shape, (std::vector<int64_t>{2, 2}));
  auto ref = testing::XgboostReference(dir_ + "/model.json", {400, 3, 1, 20, 12, 0}, 2, 0);
  EXPECT_NEAR((*(*out)[2].As<float>())[1], ref[0], 1e-6);
  EXPECT_NEAR((*(*out)[2].As<float>())[3], ref[1], 1e-6);
  EXPECT_FALSE(b->PredictRow({1, 2}, false).ok());
  EXPECT_FALSE(
      XGBoostBackend::Load(dir_ + "/model.json", {"a", "b", "c"}).ok());  // 3 labels, 2 classes
  testing::WriteFile(tmp_.File("bad.json"), "{\"not\": \"a model\"}");
  auto bad = XGBoostBackend::Load(tmp_.File("bad.json"), {});
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("cannot load XGBoost model"), std::string::npos);
}

TEST_F(XGBoostBackendTest, UbjsonModelsLoadToo) {
  auto b = Load("binary:logistic", {"legit", "fraud"});
  ASSERT_NE(b, nullptr);
  // Re-save the same model as UBJSON (XGBoost picks the format from the extension).
  testing::ConvertXgboostModel(dir_ + "/model.json", dir_ + "/model.ubj");
  auto u = XGBoostBackend::Load(dir_ + "/model.ubj", {"legit", "fraud"});
  ASSERT_TRUE(u.ok()) << u.status().message();
  EXPECT_EQ((*u)->feature_names(), b->feature_names());
  auto pj = b->PredictRow({400, 3, 1}, false), pu = (*u)->PredictRow({400, 3, 1}, false);
  EXPECT_NEAR(pj->scores[0].p, pu->scores[0].p, 1e-7);
}

TEST_F(XGBoostBackendTest, RepositoryLoadsXgboostVersions) {
  testing::WriteXgboostModel(tmp_.File("models/fraud/1"), "binary:logistic");
  ModelRepository repo(tmp_.File("models"));
  ASSERT_TRUE(repo.LoadAll().ok());
  auto mv = repo.Resolve("fraud", "");
  ASSERT_TRUE(mv.ok()) << mv.status().message();
  EXPECT_EQ((*mv)->backend->flavor(), "xgboost");
  EXPECT_EQ((*mv)->backend->labels(), (std::vector<std::string>{"legit", "fraud"}));
}

}  // namespace
}  // namespace closedloop
