// Retraining an XGBoost model from feedback through the real binary: people's
// labels on served tabular predictions become rows of the training table (the
// logged inputs decoded back to cells, categories included), the candidate goes
// through the same gates as a text model and becomes @challenger.
#include <iostream>
#include <random>
#include <sstream>

#include "integration/fixture.h"
#include "support/command.h"

namespace closedloop::testing {
namespace {

struct Customer {
  std::string plan;
  int tenure = 0;
  int tickets = -1;  // -1: missing
  std::string churned;
};

// Churn follows a rule with a little noise; some ticket counts are missing.
std::vector<Customer> Customers(int n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int> tenure(1, 72), tickets(0, 10), pick(0, 2);
  std::normal_distribution<double> noise(0, 0.1);
  const char* plans[] = {"basic", "pro", "enterprise"};
  std::vector<Customer> out;
  for (int i = 0; i < n; ++i) {
    Customer c{plans[pick(rng)], tenure(rng), tickets(rng), ""};
    double score = (c.plan == "basic" ? 1.5 : 0.0) - c.tenure / 24.0 + c.tickets / 3.0 + noise(rng);
    c.churned = score > 1.0 ? "yes" : "no";
    if (i % 13 == 0) c.tickets = -1;
    out.push_back(c);
  }
  return out;
}

std::string Csv(const std::vector<Customer>& rows) {
  std::ostringstream out;
  out << "customer,plan,tenure,tickets,churned\n";
  for (size_t i = 0; i < rows.size(); ++i) {
    out << "c" << i << "," << rows[i].plan << "," << rows[i].tenure << ",";
    if (rows[i].tickets >= 0) out << rows[i].tickets;
    out << "," << rows[i].churned << "\n";
  }
  return out.str();
}

class TabularRetrainTest : public ServerFixture {};

TEST_F(TabularRetrainTest, PeoplesLabelsOnServedRowsRetrainAnXGBoostModelBehindTheGates) {
  // The champion saw few rows; people then label many served predictions.
  WriteFile(dir_.File("train.csv"), Csv(Customers(40, 1)));
  WriteFile(dir_.File("holdout.csv"), Csv(Customers(1500, 2)));
  auto trained = RunClosedloop("train tabular --input " + dir_.File("train.csv") + " --test " +
                               dir_.File("holdout.csv") +
                               " --label-col churned --ignore-col customer --max-rounds 200 "
                               "--threads 1 --data-dir " +
                               dir_.path() + " --register churn --alias champion");
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  Start(kTestConfig, /*install_model=*/false);

  const auto labelled = Customers(1200, 3);
  for (const Customer& c : labelled) {
    std::string features = R"({"plan":")" + c.plan + R"(","tenure":)" + std::to_string(c.tenure) +
                           R"(,"tickets":)" + (c.tickets < 0 ? "null" : std::to_string(c.tickets));
    auto p = Predict(R"({"model":"churn","features":)" + features + "}}");
    ASSERT_EQ(p.status, 200) << p.body;
    auto fb = Fetch(port_, "POST", "/v1/feedback",
                    R"({"request_id":")" + std::string(ParseJson(p.body)->Str("request_id")) +
                        R"(","label":")" + c.churned + R"("})");
    ASSERT_EQ(fb.status, 201) << fb.body;
  }
  auto r = RunClosedloop("retrain churn --threads 1 --data-dir " + dir_.path());
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::cout << "retrain outcome: " << r.output.substr(0, r.output.find('\n')) << "\n";
  auto j = ParseJson(r.output.substr(0, r.output.find('\n')));
  simdjson::dom::object data, holdout, recent;
  ASSERT_FALSE(j->root["data"].get(data));
  EXPECT_EQ(int64_t(data["original_rows"]), 40);
  EXPECT_EQ(int64_t(data["human_labels"]), 1200);
  EXPECT_EQ(int64_t(data["without_text"]), 0);  // every logged input became a row
  const int64_t train_labels = 1200 - int64_t(data["evaluation_rows"]);
  EXPECT_EQ(int64_t(data["written_rows"]), 40 + 2 * train_labels);  // human labels weigh 2
  ASSERT_FALSE(j->root["holdout_accuracy"].get(holdout));
  EXPECT_GT(double(holdout["candidate"]), double(holdout["champion"])) << r.output;
  EXPECT_GT(double(holdout["candidate"]), 0.9) << r.output;
  ASSERT_FALSE(j->root["recent_accuracy"].get(recent));
  EXPECT_GE(double(recent["candidate"]), double(recent["champion"]) - 0.01) << r.output;
  EXPECT_NE(r.output.find("as @challenger"), std::string::npos) << r.output;

  // The candidate is a servable version with the champion's features and categories.
  const std::string v2 = dir_.File("models/churn/2");
  EXPECT_NE(ReadFile(v2 + "/config.toml").find("plan = [ 'basic', 'enterprise', 'pro' ]"),
            std::string::npos)
      << ReadFile(v2 + "/config.toml");
  const std::string provenance = ReadFile(v2 + "/provenance.jsonl");
  EXPECT_NE(provenance.find(R"("source":"human_label")"), std::string::npos);
  auto eval = RunClosedloop("eval --model " + v2 + " --input " + dir_.File("holdout.csv") +
                            " --label-col churned");
  ASSERT_EQ(eval.exit_code, 0) << eval.output;
  EXPECT_NEAR(ParseJson(eval.output)->Num("accuracy"), double(holdout["candidate"]), 1e-9);

  // Fine-tuning applies to mlp models only.
  auto fine = RunClosedloop("retrain churn --mode fine_tune --data-dir " + dir_.path());
  EXPECT_EQ(fine.exit_code, 2) << fine.output;
  EXPECT_NE(fine.output.find("needs an mlp champion"), std::string::npos) << fine.output;
}

}  // namespace
}  // namespace closedloop::testing
