// TrainMlpMembers on a small separable problem: the trained head classifies
// held-out texts, early stopping keeps the best epoch, ensembles and bagging
// give distinct members, and options out of range are errors.
#include <gtest/gtest.h>

#include "learn/mlp_trainer.h"

namespace closedloop {
namespace {

struct Toy {
  std::vector<std::string> texts;
  std::vector<int> y;
};

Toy Make(int reps, int offset) {
  const char* a[] = {"card", "delivery", "arrive", "late", "post"};
  const char* b[] = {"refund", "money", "back", "charge", "return"};
  const char* c[] = {"password", "login", "account", "locked", "reset"};
  Toy t;
  for (int i = 0; i < reps; ++i) {
    const int k = (i + offset) % 5, j = (i * 3 + offset + 1) % 5;
    t.texts.push_back(std::string("my ") + a[k] + " " + a[j] + " please");
    t.y.push_back(0);
    t.texts.push_back(std::string("my ") + b[k] + " " + b[j] + " please");
    t.y.push_back(1);
    t.texts.push_back(std::string("my ") + c[k] + " " + c[j] + " please");
    t.y.push_back(2);
  }
  return t;
}

TEST(MlpTrainerTest, LearnsHeldOutTextsAndKeepsTheBestEpoch) {
  Toy train = Make(20, 0), val = Make(5, 2);
  std::vector<std::string_view> views(train.texts.begin(), train.texts.end());
  auto f = TextFeaturizer::Fit(views, {2, 2, 4, 1});
  ASSERT_TRUE(f.ok());
  std::vector<SparseVector> x, vx;
  for (const auto& t : train.texts) x.push_back(f->Featurize(t));
  for (const auto& t : val.texts) vx.push_back(f->Featurize(t));
  MlpTrainOptions o;
  o.hidden = 16;
  o.max_epochs = 30;
  o.patience = 30;
  o.ensemble = 3;
  o.bagging = true;
  o.threads = 2;
  MlpTrainReport report;
  auto members = TrainMlpMembers(*f, x, train.y, nullptr, vx, val.y, 3, o, &report);
  ASSERT_TRUE(members.ok()) << members.status().message();
  ASSERT_EQ(members->size(), 3u);
  EXPECT_NE((*members)[0].w2, (*members)[1].w2);  // own seeds and samples
  ASSERT_EQ(report.members.size(), 3u);
  MlpModel model(*f, *members);
  size_t right = 0;
  for (size_t i = 0; i < vx.size(); ++i) {
    auto p = model.MemberProbabilities(vx[i], 1.0);
    std::vector<float> mean(3, 0);
    for (const auto& m : p) {
      for (size_t c = 0; c < 3; ++c) mean[c] += m[c];
    }
    right += std::max_element(mean.begin(), mean.end()) - mean.begin() == val.y[i];
  }
  EXPECT_EQ(right, vx.size());
  for (size_t m = 0; m < 3; ++m) {
    const auto& h = report.members[m];
    const int best = report.best_epoch[m];
    ASSERT_GE(best, 1);
    for (const auto& e : h) EXPECT_LE(e.validation_accuracy, h[best - 1].validation_accuracy);
  }
  // Training loss falls.
  EXPECT_LT(report.members[0].back().train_loss, report.members[0].front().train_loss);
}

TEST(MlpTrainerTest, BadOptionsAndEmptySplitsAreErrors) {
  Toy t = Make(3, 0);
  std::vector<std::string_view> views(t.texts.begin(), t.texts.end());
  auto f = TextFeaturizer::Fit(views, {2, 2, 4, 1});
  ASSERT_TRUE(f.ok());
  std::vector<SparseVector> x;
  for (const auto& s : t.texts) x.push_back(f->Featurize(s));
  MlpTrainOptions o;
  EXPECT_FALSE(TrainMlpMembers(*f, x, t.y, nullptr, {}, {}, 3, o, nullptr).ok());
  o.dropout = 1.0f;
  EXPECT_FALSE(TrainMlpMembers(*f, x, t.y, nullptr, x, t.y, 3, o, nullptr).ok());
  o = {};
  std::vector<float> w(2, 1.0f);
  EXPECT_FALSE(TrainMlpMembers(*f, x, t.y, &w, x, t.y, 3, o, nullptr).ok());
}

}  // namespace
}  // namespace closedloop
