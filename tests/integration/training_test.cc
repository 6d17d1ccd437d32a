// `closedloop train text|tabular` and `closedloop eval` through the real binary:
// input formats, splits, quantization, autotune, the progress bar, tabular models
// with categorical features served by name, and every bad input the issue names.
#include <filesystem>
#include <random>
#include <regex>
#include <sstream>

#include "integration/fixture.h"
#include "support/command.h"

namespace closedloop::testing {
namespace {

namespace fs = std::filesystem;

const std::string kData = std::string(CLOSEDLOOP_SOURCE_DIR) + "/examples/support/data";

// A small two-intent data set, in the format asked for.
void WriteIntents(const std::string& path, const std::string& format) {
  std::vector<std::pair<std::string, std::string>> rows;
  const char* card[] = {"where is my card",       "card has not arrived",
                        "my new card is late",    "still waiting for the card",
                        "when will my card come", "card delivery"};
  const char* refund[] = {"i want a refund",           "refund my money",   "give me my money back",
                          "please refund the payment", "refund the charge", "money back now"};
  for (int rep = 0; rep < 5; ++rep) {
    for (const char* t : card) rows.emplace_back(t, "card_arrival");
    for (const char* t : refund) rows.emplace_back(t, "refund");
  }
  std::ostringstream out;
  if (format == "tsv") out << "sentence\tintent\n";
  if (format == "csv") out << "sentence,intent\n";
  for (const auto& [text, label] : rows) {
    if (format == "tsv") out << text << "\t" << label << "\n";
    if (format == "csv") out << "\"" << text << "\"," << label << "\n";
    if (format == "jsonl") {
      out << R"({"sentence":")" << text << R"(","intent":")" << label << R"(","id":1})"
          << "\n";
    }
  }
  WriteFile(path, out.str());
}

class TrainingTest : public ServerFixture {
 protected:
  CommandResult Train(const std::string& args) {
    return RunClosedloop(
        "train text --text-col sentence --label-col intent --epoch 30 --dim 8 "
        "--minn 0 --maxn 0 --bucket 1000 --threads 1 --no-tracking " +
        args);
  }
};

TEST_F(TrainingTest, TsvAndJsonlTrainWithAStratifiedValidationSplit) {
  for (const std::string fmt : {"tsv", "jsonl"}) {
    WriteIntents(dir_.File("d." + fmt), fmt);
    auto [rc, out] = Train("--input " + dir_.File("d." + fmt) + " --output " +
                           dir_.File("m-" + fmt) + " --validation-fraction 0.2 --seed 3");
    ASSERT_EQ(rc, 0) << out;
    EXPECT_EQ(Field(out, "train_rows"), 48) << out;  // 60 rows, 20% of each label held out
    EXPECT_EQ(Field(out, "validation_rows"), 12) << out;
    EXPECT_GE(Field(out, "validation_accuracy"), 0.9) << out;
    EXPECT_GT(Field(out, "temperature"), 0) << out;
    EXPECT_GE(Field(out, "ece_before"), 0) << out;
    EXPECT_TRUE(fs::exists(dir_.File("m-" + fmt + "/metrics.json")));
  }
}

TEST_F(TrainingTest, ProgressBarQuantizeAndEval) {
  const std::string model = dir_.File("models/intent/1");
  auto [rc, out] = RunClosedloop(
      "train text --input " + kData + "/train.csv --test " + kData +
      "/test.csv --label-col category --output " + model +
      " --epoch 25 --lr 1.0 --dim 16 --minn 0 --maxn 0 --bucket 20000 --threads 1 --quantize "
      "--progress always --no-tracking");
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("\rtraining ["), std::string::npos);
  EXPECT_NE(out.find("100% done"), std::string::npos);
  double before = Field(out, "size_before_quantize"), after = Field(out, "size_after_quantize");
  EXPECT_GT(before, 4 * after) << out;
  EXPECT_GT(Field(out, "accuracy_before_quantize"), 0.5);
  EXPECT_NEAR(Field(out, "accuracy_after_quantize"), Field(out, "accuracy_before_quantize"), 0.05);
  EXPECT_TRUE(fs::exists(model + "/model.ftz"));
  EXPECT_FALSE(fs::exists(model + "/model.bin"));
  EXPECT_EQ(Field(out, "test_rows"), 3080);

  auto eval = RunClosedloop("eval --model " + model + " --input " + kData +
                            "/test.csv --label-col category --output " + dir_.File("e.json"));
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  auto j = ParseJson(ReadFile(dir_.File("e.json")));
  EXPECT_EQ(j->Num("rows"), 3080);
  EXPECT_NEAR(j->Num("accuracy"), Field(out, "test_accuracy"), 1e-5);  // the same code
  simdjson::dom::array per_class, matrix, bins;
  ASSERT_FALSE(j->root["per_class"].get(per_class));
  EXPECT_EQ(per_class.size(), 77u);
  ASSERT_FALSE(j->root["confusion_matrix"].get(matrix));
  EXPECT_EQ(matrix.size(), 77u);
  ASSERT_FALSE(j->root["reliability"].get(bins));
  EXPECT_EQ(bins.size(), 15u);
  auto table = RunClosedloop("eval --table --model " + model + " --input " + kData +
                             "/test.csv --label-col category");
  EXPECT_NE(table.output.find("card_arrival"), std::string::npos);
  EXPECT_NE(table.output.find("precision"), std::string::npos);

  // The quantized model serves.
  Start(kTestConfig, /*install_model=*/false);
  auto r = Predict(R"({"model":"intent","text":"my card has not arrived yet"})");
  EXPECT_EQ(r.status, 200) << r.body;
}

TEST_F(TrainingTest, AutotuneRunsOnTheValidationSplit) {
  WriteIntents(dir_.File("d.csv"), "csv");
  auto [rc, out] = Train("--input " + dir_.File("d.csv") + " --output " + dir_.File("m") +
                         " --autotune-duration 2");
  ASSERT_EQ(rc, 0) << out;
  EXPECT_GT(Field(out, "epoch"), 0);
  EXPECT_GE(Field(out, "validation_accuracy"), 0.5) << out;
}

TEST_F(TrainingTest, BadInputIsAClearErrorAndLeavesNoModel) {
  struct Case {
    std::string file_content;
    std::string extra;
    std::string message;
  };
  std::vector<Case> cases = {
      {"", "", "empty file"},
      {"sentence,intent\n", "", "no data rows"},
      {"sentence,intent\na,x\nb,x\nc\n", "", "d.csv:4: 1 fields, header has 2"},
      {"sentence,intent\na,x,extra\n", "", "d.csv:2: 3 fields, header has 2"},
      {"sentence,label\na,x\n", "", "column 'intent' not found (columns: sentence, label)"},
      {"sentence,intent\na,x\nb,x\nc,lonely\n", "",
       "label 'lonely' has 1 example; every label needs at least 2"},
      {"sentence,intent\nok,x\ncaf\xe9,x\n", "", "column 'sentence': text is not valid UTF-8"},
  };
  for (const auto& c : cases) {
    WriteFile(dir_.File("d.csv"), c.file_content);
    auto [rc, out] = Train("--input " + dir_.File("d.csv") + " --output " + dir_.File("m"));
    EXPECT_EQ(rc, 1) << c.message;
    EXPECT_NE(out.find(c.message), std::string::npos) << out;
    EXPECT_FALSE(fs::exists(dir_.File("m"))) << c.message;
  }
  for (const auto& e : fs::directory_iterator(dir_.path())) {
    EXPECT_EQ(e.path().filename().string().find(".m.training"), std::string::npos);
  }
  auto missing = Train("--input " + dir_.File("nope.csv") + " --output " + dir_.File("m"));
  EXPECT_NE(missing.exit_code, 0);
  EXPECT_NE(missing.output.find("nope.csv"), std::string::npos) << missing.output;
  // An existing model is never overwritten by accident.
  WriteIntents(dir_.File("d.csv"), "csv");
  ASSERT_EQ(Train("--input " + dir_.File("d.csv") + " --output " + dir_.File("m")).exit_code, 0);
  auto again = Train("--input " + dir_.File("d.csv") + " --output " + dir_.File("m"));
  EXPECT_EQ(again.exit_code, 1);
  EXPECT_NE(again.output.find("already exists (pass --overwrite to replace it)"),
            std::string::npos);
  auto eval = RunClosedloop("eval --model " + dir_.File("no-model") + " --input " +
                            dir_.File("d.csv") + " --text-col sentence --label-col intent");
  EXPECT_EQ(eval.exit_code, 1);
  EXPECT_NE(eval.output.find("model '" + dir_.File("no-model") + "' does not exist"),
            std::string::npos)
      << eval.output;
}

// Churn-like rows: a categorical plan, numeric features with gaps; the label
// follows a noisy rule so that a model can learn it.
void WriteChurn(const std::string& path, int rows, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> tenure(1, 72), tickets(0, 10), pick(0, 2);
  std::normal_distribution<double> noise(0, 0.5);
  const char* plans[] = {"basic", "pro", "enterprise"};
  std::ostringstream out;
  out << "customer,plan,tenure,tickets,churned\n";
  for (int i = 0; i < rows; ++i) {
    int p = pick(rng), t = tenure(rng), k = tickets(rng);
    double score = (p == 0 ? 1.5 : 0.0) - t / 24.0 + k / 3.0 + noise(rng);
    out << "c" << i << "," << plans[p] << "," << t << ",";
    if (i % 17 != 0) out << k;  // some missing values
    out << "," << (score > 1.0 ? "yes" : "no") << "\n";
  }
  WriteFile(path, out.str());
}

TEST_F(TrainingTest, TabularWithCategoriesClassWeightsAndEarlyStoppingServesByName) {
  WriteChurn(dir_.File("churn.csv"), 2000, 11);
  auto [rc, out] = RunClosedloop(
      "train tabular --input " + dir_.File("churn.csv") +
      " --label-col churned --ignore-col customer --test-fraction 0.2 --class-weight balanced "
      "--max-rounds 1000 --early-stopping-rounds 10 --threads 1 --output " +
      dir_.File("models/churn/1") + " --data-dir " + dir_.path());
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("categorical: plan(3)"), std::string::npos) << out;
  EXPECT_LT(Field(out, "rounds"), 1000);  // stopped early
  EXPECT_EQ(Field(out, "rounds"), Field(out, "best_iteration") + 11);
  EXPECT_GT(Field(out, "test_accuracy"), 0.8) << out;
  EXPECT_GT(Field(out, "test_roc_auc"), 0.85) << out;
  EXPECT_GT(Field(out, "test_macro_f1"), 0.75) << out;
  EXPECT_GT(Field(out, "test_log_loss"), 0) << out;
  EXPECT_NE(out.find("run_id: "), std::string::npos);
  EXPECT_NE(ReadFile(dir_.File("models/churn/1/config.toml"))
                .find("plan = [ 'basic', 'enterprise', 'pro' ]"),
            std::string::npos);
  auto eval = RunClosedloop("eval --model " + dir_.File("models/churn/1") + " --input " +
                            dir_.File("churn.csv") + " --label-col churned");
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  EXPECT_GT(ParseJson(eval.output)->Num("accuracy"), 0.8);

  Start(kTestConfig, /*install_model=*/false);
  auto risky = Predict(R"({"model":"churn","features":{"plan":"basic","tenure":2,"tickets":9}})");
  ASSERT_EQ(risky.status, 200) << risky.body;
  EXPECT_EQ(ParseJson(risky.body)->Str("label"), "yes");
  auto loyal =
      Predict(R"({"model":"churn","features":{"plan":"enterprise","tenure":70,"tickets":0}})");
  EXPECT_EQ(ParseJson(loyal.body)->Str("label"), "no");
  auto unseen = Predict(R"({"model":"churn","features":{"plan":"gold","tenure":70}})");
  EXPECT_EQ(unseen.status, 200) << unseen.body;  // an unseen category is a missing value
  auto wrong = Predict(R"({"model":"churn","features":{"tenure":"long"}})");
  EXPECT_EQ(wrong.status, 400);
  EXPECT_NE(wrong.body.find("feature 'tenure' must be a number or null"), std::string::npos)
      << wrong.body;
}

TEST_F(TrainingTest, TabularBadInput) {
  WriteFile(dir_.File("t.csv"), "a,label\n1,x\n2,x\n3,y\n4,y\n");
  auto weight = RunClosedloop("train tabular --input " + dir_.File("t.csv") +
                              " --label-weight z=2 --no-tracking --output " + dir_.File("m"));
  EXPECT_EQ(weight.exit_code, 1);
  EXPECT_NE(weight.output.find("class weight for unknown label 'z'"), std::string::npos)
      << weight.output;
  auto ignore = RunClosedloop("train tabular --input " + dir_.File("t.csv") +
                              " --ignore-col nope --no-tracking --output " + dir_.File("m"));
  EXPECT_NE(ignore.output.find("column 'nope' not found"), std::string::npos);
  EXPECT_FALSE(fs::exists(dir_.File("m")));
  // NaN or infinite features name their row and column; an empty cell is the missing value.
  for (const char* bad : {"NaN", "inf", "-Infinity"}) {
    WriteFile(dir_.File("n.csv"), std::string("a,b,label\n1,2,x\n2,") + bad + ",x\n3,,y\n4,1,y\n");
    auto nan = RunClosedloop("train tabular --input " + dir_.File("n.csv") +
                             " --validation-fraction 0.5 --no-tracking --output " + dir_.File("m"));
    EXPECT_EQ(nan.exit_code, 1) << nan.output;
    EXPECT_NE(nan.output.find("column 'b': '" + std::string(bad) + "' is not a finite number"),
              std::string::npos)
        << nan.output;
    EXPECT_FALSE(fs::exists(dir_.File("m")));
  }
}

}  // namespace
}  // namespace closedloop::testing
