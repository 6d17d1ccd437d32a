// Continual learning through the real binary: an mlp model trained on 72
// Banking77 intents learns five new ones (tests/support/banking77.h) by fine-tuning. Without the
// guard it forgets the old intents; with rehearsal and EWC it keeps them within a point while
// learning the new ones, through `train text --fine-tune-from` and through `closedloop retrain
// --mode fine_tune` from people's labels sent as feedback.
#include <filesystem>
#include <iostream>

#include "integration/fixture.h"
#include "support/banking77.h"
#include "support/command.h"

namespace closedloop::testing {
namespace {

const std::string kData = std::string(CLOSEDLOOP_SOURCE_DIR) + "/examples/support/data";

class ContinualLearningTest : public ServerFixture {
 protected:
  void SetUp() override {
    ASSERT_GT(SplitByLabel(kData + "/train.csv", NewProductIntents(), dir_.File("new_train.csv"),
                           dir_.File("old_train.csv")),
              500u);
    ASSERT_EQ(SplitByLabel(kData + "/test.csv", NewProductIntents(), dir_.File("new_test.csv"),
                           dir_.File("old_test.csv")),
              200u);
  }
  double Accuracy(const std::string& model, const std::string& file) {
    auto r = RunClosedloop("eval --model " + model + " --input " + file + " --label-col category");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    return ParseJson(r.output)->Num("accuracy");
  }
  static constexpr const char* kBase = " --label-col category --max-epochs 8 --no-tracking";
};

TEST_F(ContinualLearningTest, WithoutTheGuardOldIntentsAreForgottenWithItTheyHold) {
  auto base = RunClosedloop("train text --model mlp --input " + dir_.File("old_train.csv") +
                            " --output " + dir_.File("base/1") + kBase);
  ASSERT_EQ(base.exit_code, 0) << base.output;
  const double base_old = Accuracy(dir_.File("base/1"), dir_.File("old_test.csv"));
  ASSERT_GT(base_old, 0.85);
  EXPECT_EQ(Accuracy(dir_.File("base/1"), dir_.File("new_test.csv")), 0.0);  // unknown intents

  const std::string fine = "train text --model mlp --fine-tune-from " + dir_.File("base/1") +
                           " --input " + dir_.File("new_train.csv") + kBase;
  auto naive = RunClosedloop(fine + " --output " + dir_.File("naive/1") + " --ewc 0");
  ASSERT_EQ(naive.exit_code, 0) << naive.output;
  EXPECT_EQ(Field(naive.output, "added_labels"), 5) << naive.output;
  EXPECT_EQ(Field(naive.output, "replay_rows"), 0) << naive.output;
  const double naive_old = Accuracy(dir_.File("naive/1"), dir_.File("old_test.csv"));
  EXPECT_LT(naive_old, base_old - 0.2) << "fine-tuning on new intents alone forgets";

  auto guarded = RunClosedloop(fine + " --output " + dir_.File("guarded/1") + " --replay " +
                               dir_.File("old_train.csv"));
  ASSERT_EQ(guarded.exit_code, 0) << guarded.output;
  EXPECT_EQ(Field(guarded.output, "replay_rows"), 4000) << guarded.output;
  const double guarded_old = Accuracy(dir_.File("guarded/1"), dir_.File("old_test.csv"));
  const double guarded_new = Accuracy(dir_.File("guarded/1"), dir_.File("new_test.csv"));
  EXPECT_GE(guarded_old, base_old - 0.01) << "base " << base_old;
  EXPECT_GT(guarded_new, 0.8);
  const std::string config = ReadFile(dir_.File("guarded/1/config.toml"));
  EXPECT_NE(config.find("'apple_pay_or_google_pay'"), std::string::npos) << config;

  // What fine-tuning cannot start from is a clear error.
  auto ft =
      RunClosedloop("train text --input " + dir_.File("old_train.csv") + " --output " +
                    dir_.File("ft/1") + " --label-col category --dim 8 --epoch 1 --no-tracking");
  ASSERT_EQ(ft.exit_code, 0) << ft.output;
  auto wrong =
      RunClosedloop("train text --model mlp --fine-tune-from " + dir_.File("ft/1") + " --input " +
                    dir_.File("new_train.csv") + " --output " + dir_.File("x/1") + kBase);
  EXPECT_NE(wrong.exit_code, 0);
  EXPECT_NE(wrong.output.find("fine-tuning starts from an mlp model"), std::string::npos)
      << wrong.output;
  auto not_mlp = RunClosedloop("train text --fine-tune-from " + dir_.File("base/1") + " --input " +
                               dir_.File("new_train.csv") + " --output " + dir_.File("x/1") +
                               " --label-col category --no-tracking");
  EXPECT_NE(not_mlp.exit_code, 0);
  EXPECT_NE(not_mlp.output.find("needs --model mlp"), std::string::npos) << not_mlp.output;
  EXPECT_FALSE(std::filesystem::exists(dir_.File("x/1")));
}

TEST_F(ContinualLearningTest, RetrainFineTunesTheChampionOnPeoplesLabels) {
  auto base = RunClosedloop("train text --model mlp --input " + dir_.File("old_train.csv") +
                            " --test " + dir_.File("old_test.csv") +
                            " --label-col category --max-epochs 8 --progress never --data-dir " +
                            dir_.path() + " --register intent --alias champion");
  ASSERT_EQ(base.exit_code, 0) << base.output;
  Start(kTestConfig, /*install_model=*/false);
  // People label the new intents' inquiries through feedback on real predictions.
  int labelled = 0;
  for (const TextLabel& row : ReadTextLabelRows(dir_.File("new_train.csv"))) {
    auto p = Predict(R"({"model":"intent","text":)" + JsonString(row.text) + "}");
    ASSERT_EQ(p.status, 200) << p.body;
    auto j = ParseJson(p.body);
    auto fb = Fetch(port_, "POST", "/v1/feedback",
                    R"({"request_id":")" + std::string(j->Str("request_id")) + R"(","label":)" +
                        JsonString(row.label) + "}");
    ASSERT_EQ(fb.status, 201) << fb.body;
    ++labelled;
  }
  ASSERT_GT(labelled, 500);
  auto r = RunClosedloop("retrain intent --mode fine_tune --data-dir " + dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::cout << "retrain outcome: " << r.output.substr(0, r.output.find('\n')) << "\n";
  auto j = ParseJson(r.output.substr(0, r.output.find('\n')));
  EXPECT_EQ(j->Str("mode"), "fine_tune");
  simdjson::dom::object data, holdout, recent;
  ASSERT_FALSE(j->root["data"].get(data));
  EXPECT_EQ(int64_t(data["replay_rows"]), 4000);
  EXPECT_EQ(int64_t(data["added_labels"]), 5);
  ASSERT_FALSE(j->root["holdout_accuracy"].get(holdout));
  EXPECT_LE(double(holdout["forgetting"]), 0.01) << r.output;  // old intents held
  ASSERT_FALSE(j->root["recent_accuracy"].get(recent));
  EXPECT_GT(double(recent["candidate"]), 0.8) << r.output;  // new intents learned
  EXPECT_EQ(double(recent["champion"]), 0.0);
  EXPECT_NE(r.output.find("as @challenger"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace closedloop::testing
