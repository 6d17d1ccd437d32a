// The model registry through the real binary: `train --register`, MLflow's
// registry endpoints, model cards, `closedloop models ...`, and moving an alias
// under load without a failed request.
#include <poll.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "core/sha256.h"
#include "integration/fixture.h"
#include "support/command.h"

namespace closedloop::testing {
namespace {

namespace fs = std::filesystem;

class RegistryTest : public ServerFixture {
 protected:
  void SetUp() override {
    std::string rows = "text,label\n";
    for (int i = 0; i < 6; ++i) {
      rows += "where is my card " + std::to_string(i) + ",card\nrefund my money " +
              std::to_string(i) + ",refund\n";
    }
    WriteFile(dir_.File("d.csv"), rows);
  }
  CommandResult TrainAndRegister(const std::string& extra) {
    return RunClosedloop("train text --input " + dir_.File("d.csv") +
                         " --epoch 20 --dim 8 --minn 0 --maxn 0 --bucket 1000 --threads 1 "
                         "--data-dir " +
                         dir_.path() + " --register tiny " + extra);
  }
  HttpResult Mlflow(const std::string& method, const std::string& path,
                    const std::string& body = "") {
    return Fetch(port_, method, "/api/2.0/mlflow/" + path, body);
  }
  // Waits until `model` answers 200 (the server polls its repository).
  bool WaitServable(const std::string& model) {
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < end) {
      if (Predict(R"({"model":")" + model + R"(","text":"card"})").status == 200) return true;
      poll(nullptr, 0, 20);
    }
    return false;
  }
};

TEST_F(RegistryTest, TrainRegisterServeAndInspect) {
  Start(kTestConfig, true, {"--poll-repository", "0.2"});
  auto first = TrainAndRegister("--alias champion --description 'first try'");
  ASSERT_EQ(first.exit_code, 0) << first.output;
  EXPECT_NE(first.output.find("registered_model: tiny\nversion: 1\n"), std::string::npos);
  ASSERT_EQ(TrainAndRegister("").exit_code, 0);
  ASSERT_TRUE(WaitServable("tiny@champion")) << server_->Stderr();
  EXPECT_EQ(ParseJson(Predict(R"({"model":"tiny@champion","text":"card"})").body)->Str("version"),
            "1");

  auto model = Mlflow("GET", "registered-models/get?name=tiny");
  ASSERT_EQ(model.status, 200) << model.body;
  EXPECT_NE(model.body.find(R"("aliases":[{"alias":"champion","version":"1"}])"), std::string::npos)
      << model.body;
  auto v1 = Mlflow("GET", "model-versions/get?name=tiny&version=1");
  ASSERT_EQ(v1.status, 200);
  auto j = ParseJson(v1.body);
  std::string_view run_id, source;
  ASSERT_FALSE(j->root["model_version"]["run_id"].get(run_id));
  ASSERT_FALSE(j->root["model_version"]["source"].get(source));
  EXPECT_EQ(source, "runs:/" + std::string(run_id) + "/model");
  std::string bin = dir_.File("models/tiny/1/model.bin");
  EXPECT_NE(v1.body.find(R"({"key":"closedloop.model_sha256","value":")" +
                         Sha256Hex(ReadFile(bin)) + "\"}"),
            std::string::npos)
      << v1.body;
  EXPECT_NE(v1.body.find(R"({"key":"closedloop.model_size","value":")" +
                         std::to_string(fs::file_size(bin)) + "\"}"),
            std::string::npos);
  EXPECT_NE(v1.body.find(R"("description":"first try")"), std::string::npos);
  auto run = Fetch(port_, "GET", "/api/2.0/mlflow/runs/get?run_id=" + std::string(run_id));
  EXPECT_NE(run.body.find(R"({"key":"registered_version","value":"1"})"), std::string::npos);
  EXPECT_NE(run.body.find(R"({"key":"model.path","value":")" + bin + "\"}"), std::string::npos)
      << run.body;
  auto search = Mlflow("GET", "model-versions/search?filter=name%3D%27tiny%27");
  ASSERT_EQ(search.status, 200);
  auto s = ParseJson(search.body);
  simdjson::dom::array versions;
  ASSERT_FALSE(s->root["model_versions"].get(versions));
  EXPECT_EQ(versions.size(), 2u);
  auto card = Fetch(port_, "GET", "/v1/models/tiny/versions/1/card");
  ASSERT_EQ(card.status, 200);
  EXPECT_EQ(card.Header("Content-Type"), "text/markdown; charset=utf-8");
  EXPECT_EQ(card.body.find("# Model card: tiny version 1"), 0u) << card.body;
  EXPECT_NE(card.body.find(std::string(run_id)), std::string::npos);
  EXPECT_EQ(Fetch(port_, "GET", "/v1/models/tiny/versions/9/card").status, 404);

  // The CLI reads the same registry.
  auto list = RunClosedloop("models list --data-dir " + dir_.path());
  EXPECT_NE(list.output.find("tiny  versions: 2(None) 1(None)  aliases: champion=1"),
            std::string::npos)
      << list.output;
  auto show = RunClosedloop("models show tiny --version 1 --data-dir " + dir_.path());
  EXPECT_NE(show.output.find("run_id      " + std::string(run_id)), std::string::npos)
      << show.output;
  auto card_cli = RunClosedloop("models show tiny --card --data-dir " + dir_.path());
  EXPECT_EQ(card_cli.output.find("# Model card: tiny version 2"), 0u) << card_cli.output;
  auto stage = RunClosedloop("models stage tiny 2 staging --data-dir " + dir_.path());
  EXPECT_EQ(stage.output, "tiny version 2 -> Staging\n");
  auto latest = Mlflow("POST", "registered-models/get-latest-versions",
                       R"({"name":"tiny","stages":["Staging"]})");
  EXPECT_NE(latest.body.find(R"("version":"2")"), std::string::npos) << latest.body;
  EXPECT_EQ(latest.body.find(R"("version":"1")"), std::string::npos);
}

TEST_F(RegistryTest, MovingTheAliasSwapsServingWithoutAFailedRequest) {
  Start(kTestConfig, true, {"--poll-repository", "0.2"});
  ASSERT_EQ(TrainAndRegister("--alias champion").exit_code, 0);
  ASSERT_EQ(TrainAndRegister("").exit_code, 0);
  ASSERT_TRUE(WaitServable("tiny@champion"));
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0}, saw_v1{0}, saw_v2{0};
  std::vector<std::thread> clients;
  for (int c = 0; c < 4; ++c) {
    clients.emplace_back([&] {
      while (!stop) {
        auto r = Predict(R"({"model":"tiny@champion","text":"refund please"})");
        if (r.status != 200) {
          ++failed;
          continue;
        }
        ++ok;
        ++(ParseJson(r.body)->Str("version") == "2" ? saw_v2 : saw_v1);
      }
    });
  }
  auto wait_for = [&](std::atomic<int>& counter, int at_least) {
    int start = counter;
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (counter < start + at_least && std::chrono::steady_clock::now() < end) {
      poll(nullptr, 0, 5);
    }
    return counter >= start + at_least;
  };
  ASSERT_TRUE(wait_for(saw_v1, 100));
  // Through MLflow's API (applied at once) ...
  auto moved = Mlflow("POST", "registered-models/alias",
                      R"({"name":"tiny","alias":"champion","version":2})");
  ASSERT_EQ(moved.status, 200) << moved.body;
  EXPECT_TRUE(wait_for(saw_v2, 100));
  // ... and back through the CLI (picked up by the repository poll).
  auto back = RunClosedloop("models alias tiny champion 1 --data-dir " + dir_.path());
  ASSERT_EQ(back.exit_code, 0) << back.output;
  EXPECT_TRUE(wait_for(saw_v1, 100));
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(ok.load(), 300);
}

TEST_F(RegistryTest, BadRegistryRequestsAreMlflowErrorsAndLeaveNothingBehind) {
  Start(kTestConfig, true, {"--poll-repository", "0"});
  ASSERT_EQ(TrainAndRegister("--alias champion").exit_code, 0);
  auto expect = [&](const HttpResult& r, int status, const std::string& code,
                    const std::string& message) {
    EXPECT_EQ(r.status, status) << r.body;
    EXPECT_NE(r.body.find(R"("error_code":")" + code + "\""), std::string::npos) << r.body;
    EXPECT_NE(r.body.find(message), std::string::npos) << r.body;
  };
  expect(Mlflow("POST", "registered-models/create", R"({"name":"tiny"})"), 400,
         "RESOURCE_ALREADY_EXISTS", "registered model 'tiny' already exists");
  expect(Mlflow("POST", "registered-models/create", R"({"name":"a/b"})"), 400,
         "INVALID_PARAMETER_VALUE", "model name 'a/b' is invalid");
  expect(Mlflow("POST", "registered-models/create", R"({})"), 400, "INVALID_PARAMETER_VALUE",
         "'name'");
  expect(Mlflow("POST", "registered-models/alias", R"({"name":"tiny","alias":"v2","version":"1"})"),
         400, "INVALID_PARAMETER_VALUE", "alias 'v2' is invalid");
  expect(Mlflow("POST", "registered-models/alias", R"({"name":"tiny","alias":"x","version":"9"})"),
         404, "RESOURCE_DOES_NOT_EXIST", "version 9 does not exist");
  expect(Mlflow("POST", "model-versions/create",
                R"({"name":"tiny","source":")" + dir_.File("nowhere") + "\"}"),
         400, "INVALID_PARAMETER_VALUE", "does not exist");
  expect(Mlflow("POST", "model-versions/create",
                R"({"name":"tiny","source":")" + dir_.File("models/tiny/1") +
                    R"(","run_id":"ffffffffffffffffffffffffffffffff"})"),
         404, "RESOURCE_DOES_NOT_EXIST", "run 'ffffffffffffffffffffffffffffffff' does not exist");
  expect(Mlflow("POST", "model-versions/create",
                R"({"name":"ghost","source":")" + dir_.File("models/tiny/1") + "\"}"),
         404, "RESOURCE_DOES_NOT_EXIST", "registered model 'ghost' does not exist");
  expect(Mlflow("GET", "model-versions/get?name=tiny&version=abc"), 400, "INVALID_PARAMETER_VALUE",
         "'version' must be an integer");
  expect(Mlflow("POST", "model-versions/transition-stage",
                R"({"name":"tiny","version":"1","stage":"Live"})"),
         400, "INVALID_PARAMETER_VALUE", "stage 'Live'");
  expect(Mlflow("DELETE", "registered-models/alias?name=tiny&alias=nope"), 404,
         "RESOURCE_DOES_NOT_EXIST", "alias 'nope'");
  // Nothing was half-created.
  auto versions = Mlflow("GET", "model-versions/search");
  EXPECT_EQ(versions.body.find(R"("version":"2")"), std::string::npos) << versions.body;
  EXPECT_FALSE(fs::exists(dir_.File("models/tiny/2")));
  EXPECT_FALSE(fs::exists(dir_.File("models/ghost")));
  EXPECT_EQ(Mlflow("GET", "registered-models/get?name=a%2Fb").status, 404);
  // The CLI refuses bad names before training.
  auto bad = RunClosedloop("train text --input " + dir_.File("d.csv") + " --data-dir " +
                           dir_.path() + " --register 'bad name'");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.output.find("model name 'bad name' is invalid"), std::string::npos);
  auto alias = RunClosedloop("models alias tiny latest 1 --data-dir " + dir_.path());
  EXPECT_EQ(alias.exit_code, 1);
  EXPECT_NE(alias.output.find("alias 'latest' is invalid"), std::string::npos);

  // A version registered over REST from a directory is copied in and served; deleting
  // the model removes it from serving.
  auto created = Mlflow("POST", "model-versions/create",
                        R"({"name":"tiny","source":")" + dir_.File("models/tiny/1") + "\"}");
  ASSERT_EQ(created.status, 200) << created.body;
  EXPECT_NE(created.body.find(R"("version":"2")"), std::string::npos);
  EXPECT_EQ(Predict(R"({"model":"tiny","version":"2","text":"card"})").status, 200);
  ASSERT_EQ(Mlflow("DELETE", "registered-models/delete", R"({"name":"tiny"})").status, 200);
  EXPECT_EQ(Predict(R"({"model":"tiny","text":"card"})").status, 404);
  EXPECT_EQ(Predict(R"({"model":"support-intent","text":"card"})").status, 200);
}

}  // namespace
}  // namespace closedloop::testing
