// TextFeaturizer and MlpModel: features are deterministic and unit-norm, unknown
// n-grams are dropped, files round-trip exactly, INT8 stays close, and truncated
// or foreign files are errors rather than crashes.
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

#include <gtest/gtest.h>

#include "serving/mlp_backend.h"
#include "serving/mlp_model.h"
#include "serving/text_features.h"
#include "support/temp_dir.h"

namespace closedloop {
namespace {

TextFeaturizer Fitted() {
  std::vector<std::string_view> texts = {"where is my card", "my card is late", "refund my money",
                                         "i want a refund"};
  auto f = TextFeaturizer::Fit(texts, {2, 2, 4, 1});
  EXPECT_TRUE(f.ok()) << f.status().message();
  return std::move(*f);
}

double Norm(const SparseVector& v) {
  double s = 0;
  for (float x : v.value) s += double(x) * x;
  return std::sqrt(s);
}

TEST(TextFeaturizerTest, UnitNormSortedColumnsAndUnknownNgramsDropped) {
  TextFeaturizer f = Fitted();
  SparseVector a = f.Featurize("Where is my CARD?");
  ASSERT_FALSE(a.index.empty());
  EXPECT_NEAR(Norm(a), 1.0, 1e-5);
  EXPECT_TRUE(std::is_sorted(a.index.begin(), a.index.end()));
  EXPECT_EQ(std::adjacent_find(a.index.begin(), a.index.end()), a.index.end());
  SparseVector b = f.Featurize("where is my card ?");  // same after normalization
  EXPECT_EQ(a.index, b.index);
  EXPECT_TRUE(f.Featurize("zzqx").index.empty());
  EXPECT_DOUBLE_EQ(f.UnknownWordRate("my zzqx"), 0.5);
}

TEST(TextFeaturizerTest, RoundTripsAndRejectsTruncation) {
  TextFeaturizer f = Fitted();
  std::stringstream s;
  f.Write(s);
  const std::string bytes = s.str();
  std::istringstream in(bytes);
  auto g = TextFeaturizer::Read(in);
  ASSERT_TRUE(g.ok()) << g.status().message();
  EXPECT_EQ(g->dimension(), f.dimension());
  EXPECT_EQ(g->Featurize("refund my card").value, f.Featurize("refund my card").value);
  for (size_t cut : {size_t{3}, size_t{20}, bytes.size() - 1}) {
    std::istringstream part(bytes.substr(0, cut));
    EXPECT_FALSE(TextFeaturizer::Read(part).ok()) << cut;
  }
  std::vector<std::string_view> none = {"a b", "c d"};
  EXPECT_FALSE(TextFeaturizer::Fit(none, {2, 2, 4, 2}).ok());  // nothing in 2 texts
}

MlpModel RandomModel(int members) {
  TextFeaturizer f = Fitted();
  std::mt19937 rng(7);
  std::normal_distribution<float> n(0, 0.5f);
  std::vector<MlpMember> ms(static_cast<size_t>(members));
  for (auto& m : ms) {
    m.hidden = 8;
    m.labels = 3;
    m.w1.resize(f.dimension() * 8);
    for (float& w : m.w1) w = n(rng);
    m.b1.assign(8, 0.1f);
    m.w2.resize(24);
    for (float& w : m.w2) w = n(rng);
    m.b2 = {0.1f, -0.2f, 0.3f};
  }
  return MlpModel(std::move(f), std::move(ms));
}

TEST(MlpModelTest, SaveLoadIsExactAndInt8IsClose) {
  testing::TempDir dir;
  MlpModel model = RandomModel(2);
  ASSERT_TRUE(model.Save(dir.File("m.mlp")).ok());
  auto loaded = MlpModel::Load(dir.File("m.mlp"));
  ASSERT_TRUE(loaded.ok()) << loaded.status().message();
  const SparseVector x = model.featurizer().Featurize("where is my refund");
  auto p = model.MemberProbabilities(x, 1.0), q = (*loaded)->MemberProbabilities(x, 1.0);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p, q);
  auto int8 = model.Quantized();
  ASSERT_TRUE(int8->Save(dir.File("q.mlp")).ok());
  EXPECT_LT(std::filesystem::file_size(dir.File("q.mlp")),
            std::filesystem::file_size(dir.File("m.mlp")));
  auto ql = MlpModel::Load(dir.File("q.mlp"));
  ASSERT_TRUE(ql.ok()) << ql.status().message();
  auto r = (*ql)->MemberProbabilities(x, 1.0);
  for (size_t m = 0; m < 2; ++m) {
    for (size_t c = 0; c < 3; ++c) EXPECT_NEAR(r[m][c], p[m][c], 0.02);
  }
}

TEST(MlpModelTest, ForeignAndTruncatedFilesAreErrors) {
  testing::TempDir dir;
  ASSERT_TRUE(RandomModel(1).Save(dir.File("m.mlp")).ok());
  std::ifstream in(dir.File("m.mlp"), std::ios::binary);
  const std::string bytes((std::istreambuf_iterator<char>(in)), {});
  for (size_t cut : {size_t{4}, size_t{30}, bytes.size() / 2, bytes.size() - 2}) {
    std::ofstream(dir.File("t.mlp"), std::ios::binary) << bytes.substr(0, cut);
    EXPECT_FALSE(MlpModel::Load(dir.File("t.mlp")).ok()) << cut;
  }
  std::ofstream(dir.File("x.mlp"), std::ios::binary) << bytes << "extra";
  EXPECT_FALSE(MlpModel::Load(dir.File("x.mlp")).ok());
  EXPECT_FALSE(MlpModel::Load(dir.File("missing.mlp")).ok());
  // The backend checks the label count against config.toml's labels.
  EXPECT_FALSE(MlpBackend::Load(dir.File("m.mlp"), {"a", "b"}).ok());
  auto b = MlpBackend::Load(dir.File("m.mlp"), {"a", "b", "c"}, 1.5);
  ASSERT_TRUE(b.ok());
  auto scores = (*b)->PredictText("my card", 2);
  ASSERT_TRUE(scores.ok());
  EXPECT_EQ(scores->size(), 2u);
  EXPECT_GE((*scores)[0].p, (*scores)[1].p);
  EXPECT_FALSE((*b)->PredictText("zzqx", 2).ok());
}

}  // namespace
}  // namespace closedloop
