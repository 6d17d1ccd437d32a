// Command-line behaviour of the real binary: config errors, flags over config,
// JSON logs, `train text` errors.
#include <cstdio>

#include "core/sha256.h"
#include "integration/fixture.h"
#include "support/command.h"

namespace closedloop::testing {
namespace {

class CliTest : public ServerFixture {};

TEST_F(CliTest, UnknownConfigKeyIsRejectedByName) {
  WriteFile(dir_.File("bad.toml"), "[server]\nlistn = \"127.0.0.1:0\"\n");
  auto [rc, out] = RunClosedloop("up --no-demo --data-dir " + dir_.path() + " --config " +
                                 dir_.File("bad.toml"));
  EXPECT_EQ(rc, 2);
  EXPECT_NE(out.find("unknown key 'server.listn'"), std::string::npos) << out;
}

TEST_F(CliTest, FlagsOverrideConfigAndJsonLogs) {
  // The config asks for a fixed port; the --listen flag (port 0) wins.
  Start("[server]\nlisten = \"127.0.0.1:1\"\nheader_timeout_ms = 400\n", true,
        {"--log-format", "json"});  // UpArgs passes --listen 127.0.0.1:0
  EXPECT_NE(port_, 1);
  EXPECT_EQ(Fetch(port_, "GET", "/v2/health/live").status, 200);
  std::string err = server_->Stderr();
  auto first_line = err.substr(0, err.find('\n'));
  auto j = ParseJson(first_line);
  EXPECT_EQ(j->Str("level"), "info");
  EXPECT_EQ(j->Str("msg"), "model loaded");
  EXPECT_EQ(j->Str("model"), "support-intent");
}

TEST_F(CliTest, DebugLogsCarryTheRequestId) {
  Start(kTestConfig, true, {"--log-format", "json", "--log-level", "debug"});
  auto r = Predict(R"({"model":"support-intent","text":"card"})");
  ASSERT_EQ(r.status, 200);
  std::string id = r.Header("X-Request-Id");
  ASSERT_EQ(Fetch(port_, "GET", "/v2/health/live").status, 200);  // the log line is written by now
  std::string err = server_->Stderr();
  size_t at = err.find("\"request_id\":\"" + id + "\"");
  ASSERT_NE(at, std::string::npos) << err;
  size_t start = err.rfind('\n', at) + 1;
  auto line = ParseJson(err.substr(start, err.find('\n', at) - start));
  EXPECT_EQ(line->Str("msg"), "request");
  EXPECT_EQ(line->Str("route"), "/v1/predict");
  EXPECT_EQ(line->Num("status"), 200);
}

TEST_F(CliTest, TrainTextReportsBadColumns) {
  WriteFile(dir_.File("d.csv"), "text,intent\nhello,greet\n");
  auto [rc, out] = RunClosedloop("train text --input " + dir_.File("d.csv") +
                                 " --label-col label --output " + dir_.File("m"));
  EXPECT_EQ(rc, 1);
  EXPECT_NE(out.find("column 'label' not found (columns: text, intent)"), std::string::npos) << out;
}

TEST_F(CliTest, TrainedModelIsServable) {
  WriteFile(dir_.File("d.csv"),
            "text,label\nwhere is my card,card_arrival\ncard not arrived,card_arrival\n"
            "I want a refund,refund\nrefund my money,refund\n");
  auto [rc, out] = RunClosedloop("train text --input " + dir_.File("d.csv") + " --output " +
                                 dir_.File("models/tiny/1") +
                                 " --epoch 20 --dim 8 --bucket 1000 --threads 1 --no-tracking");
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("labels: 2"), std::string::npos);
  Start(kTestConfig, /*install_model=*/false);
  auto r = Predict(R"({"model":"tiny","text":"refund please"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ParseJson(r.body)->Str("label"), "refund");
}

TEST_F(CliTest, TrainingRunIsLoggedToTheTrackingServer) {
  // Real data: fastText only measures its loss every 100 tokens.
  const std::string data = std::string(CLOSEDLOOP_SOURCE_DIR) + "/examples/support/data/train.csv";
  auto [rc, out] =
      RunClosedloop("train text --input " + data +
                    " --text-col text --label-col category --output " + dir_.File("models/tiny/1") +
                    " --epoch 4 --dim 8 --bucket 1000 "
                    "--threads 1 --seed 7 --data-dir " +
                    dir_.path());
  ASSERT_EQ(rc, 0) << out;
  EXPECT_NE(out.find("experiment: tiny"), std::string::npos) << out;
  std::string run_id = out.substr(out.find("run_id: ") + 8, 32);
  Start(kTestConfig, /*install_model=*/false);
  auto r = Fetch(port_, "GET", "/api/2.0/mlflow/runs/get?run_id=" + run_id);
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = ParseJson(r.body);
  std::string_view status;
  ASSERT_FALSE(j->root["run"]["info"]["status"].get(status));
  EXPECT_EQ(status, "FINISHED");
  EXPECT_NE(r.body.find(R"({"key":"seed","value":"7"})"), std::string::npos);
  EXPECT_NE(r.body.find(R"({"key":"data.sha256","value":")" + Sha256Hex(ReadFile(data)) + R"("})"),
            std::string::npos);
  EXPECT_NE(r.body.find(R"("key":"closedloop.git_commit")"), std::string::npos);
  // 10% of each label is held out as validation to fit the temperature (seeded, stratified).
  EXPECT_NE(r.body.find(R"({"key":"validation_rows","value":1005)"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"({"key":"ece_before_calibration","value":)"), std::string::npos);
  EXPECT_NE(r.body.find(R"({"key":"temperature","value":)"), std::string::npos);
  EXPECT_NE(ReadFile(dir_.File("models/tiny/1/config.toml")).find("temperature = "),
            std::string::npos);
  auto history =
      Fetch(port_, "GET",
            "/api/2.0/mlflow/metrics/get-history?run_id=" + run_id + "&metric_key=train_loss");
  ASSERT_EQ(history.status, 200);
  simdjson::dom::array losses;
  auto h = ParseJson(history.body);
  ASSERT_FALSE(h->root["metrics"].get(losses));
  ASSERT_EQ(losses.size(), 4u);  // one per epoch
  int64_t step = 0;
  ASSERT_FALSE(losses.at(3)["step"].get(step));
  EXPECT_EQ(step, 4);
}

TEST_F(CliTest, DriftReportsPerColumnAndRefusesMismatchedColumns) {
  std::string ref = "amount,plan\n", cur = "amount,plan\n";
  for (int i = 0; i < 400; ++i) {
    ref += std::to_string(50 + (i * 37) % 21) + "," + (i % 3 ? "free" : "pro") + "\n";
    cur += std::to_string(58 + (i * 37) % 21) + "," + (i % 3 ? "free" : "pro") + "\n";
  }
  WriteFile(dir_.File("ref.csv"), ref);
  WriteFile(dir_.File("cur.csv"), cur);
  auto table =
      RunClosedloop("drift --ref " + dir_.File("ref.csv") + " --cur " + dir_.File("cur.csv"));
  EXPECT_EQ(table.exit_code, 0) << table.output;
  EXPECT_NE(table.output.find("dataset drift: YES (1 of 2 columns drifted"), std::string::npos)
      << table.output;
  auto json = RunClosedloop("drift --json --columns plan --ref " + dir_.File("ref.csv") +
                            " --cur " + dir_.File("cur.csv"));
  EXPECT_EQ(json.exit_code, 0) << json.output;
  EXPECT_NE(json.output.find(R"("name":"plan","kind":"categorical","test":"chi_square")"),
            std::string::npos)
      << json.output;
  WriteFile(dir_.File("other.csv"), "amount,age\n1,2\n");
  auto bad =
      RunClosedloop("drift --ref " + dir_.File("ref.csv") + " --cur " + dir_.File("other.csv"));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("only in --ref: plan; only in --cur: age"), std::string::npos)
      << bad.output;
  auto unknown = RunClosedloop("drift --columns nope --ref " + dir_.File("ref.csv") + " --cur " +
                               dir_.File("cur.csv"));
  EXPECT_EQ(unknown.exit_code, 2);
  EXPECT_NE(unknown.output.find("nope"), std::string::npos) << unknown.output;
}

}  // namespace
}  // namespace closedloop::testing
