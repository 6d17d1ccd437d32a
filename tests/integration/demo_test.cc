// `closedloop up` on an empty data dir (the `make up` path): trains the demo model
// from examples/support/data, sets the champion alias, serves it.
#include <gtest/gtest.h>

#include <sys/stat.h>

#include <fstream>
#include <regex>

#include <csignal>
#include "support/http_client.h"
#include "support/json.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace closedloop::testing {
namespace {

TEST(DemoTest, UpOnEmptyDataDirTrainsRegistersAndServesTheSupportModels) {
  TempDir dir;
  ServerProcess server({"up", "--listen", "127.0.0.1:0", "--data-dir", dir.File("data")},
                       dir.File("stderr.log"));
  ASSERT_TRUE(server.WaitReady(std::chrono::minutes(3))) << server.Stderr();
  // Secure by default: the admin key is printed once and saved for the owner only;
  // every route but health needs credentials.
  std::smatch km;
  const std::string first_out = server.Stdout();
  ASSERT_TRUE(std::regex_search(first_out, km,
                                std::regex("admin API key \\(shown only now; saved to "
                                           "([^,]+), readable only by you\\):\n  "
                                           "(clk_[0-9A-Za-z_]+)\n")))
      << first_out;
  EXPECT_EQ(km[1].str(), dir.File("data") + "/admin.key");
  const std::string key = km[2].str();
  std::ifstream key_file(dir.File("data") + "/admin.key");
  std::string saved;
  std::getline(key_file, saved);
  EXPECT_EQ(saved, key);
  struct stat st {};
  ASSERT_EQ(stat((dir.File("data") + "/admin.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto anonymous = Fetch(server.port(), "POST", "/v1/predict",
                         R"({"model":"support-intent@champion","text":"card"})");
  EXPECT_EQ(anonymous.status, 401) << anonymous.body;
  EXPECT_NE(anonymous.Header("www-authenticate").find("Bearer"), std::string::npos);
  EXPECT_EQ(Fetch(server.port(), "GET", "/metrics").status, 401);
  EXPECT_EQ(Fetch(server.port(), "GET", "/v2/health/ready").status, 200);
  EXPECT_NE(first_out.find("X-Api-Key: $(cat " + dir.File("data") + "/admin.key)"),
            std::string::npos);
  const std::vector<std::pair<std::string, std::string>> auth = {
      {"Content-Type", "application/json"}, {"X-Api-Key", key}};
  auto r = Fetch(server.port(), "POST", "/v1/predict",
                 R"({"model":"support-intent@champion","text":"My card still has not arrived",)"
                 R"("top_k":3})",
                 auth);
  ASSERT_EQ(r.status, 200) << r.body;
  // Training runs on every core (fastText's parallel SGD is not bit-reproducible), so
  // assert what holds for any decent model rather than one exact top-1 label.
  EXPECT_NE(r.body.find(R"("label":"card_arrival")"), std::string::npos) << r.body;
  auto angry =
      Fetch(server.port(), "POST", "/v1/predict",
            R"({"model":"comment-sentiment@champion","text":"terrible, I am furious"})", auth);
  ASSERT_EQ(angry.status, 200) << angry.body;
  EXPECT_EQ(ParseJson(angry.body)->Str("label"), "negative");
  auto happy =
      Fetch(server.port(), "POST", "/v1/predict",
            R"({"model":"comment-sentiment@champion","text":"great service, thank you"})", auth);
  EXPECT_EQ(ParseJson(happy.body)->Str("label"), "positive");

  // The status block: URL, both models with version, alias and test metrics, data paths.
  std::string out = server.Stdout();
  EXPECT_NE(out.find("closedloop is serving at http://127.0.0.1:" + std::to_string(server.port())),
            std::string::npos)
      << out;
  std::smatch m;
  ASSERT_TRUE(
      std::regex_search(out, m, std::regex("support-intent v1 @champion  test accuracy ([0-9.]+)")))
      << out;
  EXPECT_GT(std::stod(m[1]), 0.85);  // Banking77 test set, 77 intents
  ASSERT_TRUE(std::regex_search(
      out, m, std::regex("comment-sentiment v1 @champion  test accuracy ([0-9.]+)")))
      << out;
  EXPECT_GT(std::stod(m[1]), 0.7);
  EXPECT_NE(out.find("models       " + dir.File("data") + "/models"), std::string::npos);
  EXPECT_NE(out.find(dir.File("data") + "/tracking.db"), std::string::npos);

  // Both are registered with their runs, lineage and cards.
  for (const char* name : {"support-intent", "comment-sentiment"}) {
    auto v = Fetch(
        server.port(), "GET",
        std::string("/api/2.0/mlflow/registered-models/alias?name=") + name + "&alias=champion", "",
        auth);
    ASSERT_EQ(v.status, 200) << v.body;
    std::string_view run_id;
    ASSERT_FALSE(ParseJson(v.body)->root["model_version"]["run_id"].get(run_id));
    auto run = Fetch(server.port(), "GET", "/api/2.0/mlflow/runs/get?run_id=" + std::string(run_id),
                     "", auth);
    ASSERT_EQ(run.status, 200);
    EXPECT_NE(run.body.find(R"({"key":"data.sha256","value":")"), std::string::npos);
    EXPECT_NE(run.body.find(R"("key":"test_accuracy")"), std::string::npos) << run.body;
    auto card = Fetch(server.port(), "GET", std::string("/v1/models/") + name + "/versions/1/card",
                      "", auth);
    EXPECT_NE(card.body.find("## Known limitations"), std::string::npos);
  }
  auto runs = Fetch(server.port(), "POST", "/api/2.0/mlflow/runs/search",
                    R"({"experiment_ids":["1","2"],"filter":"metrics.test_accuracy > 0.7"})", auth);
  ASSERT_EQ(runs.status, 200) << runs.body;
  EXPECT_NE(runs.body.find(R"({"key":"label_col","value":"category"})"), std::string::npos);
  EXPECT_NE(runs.body.find(R"({"key":"label_col","value":"score"})"), std::string::npos);

  // A second start reuses the trained models instead of training again.
  server.Signal(SIGTERM);
  ASSERT_EQ(server.WaitExit(std::chrono::seconds(20)), 0);
  ServerProcess again(
      {"up", "--listen", "127.0.0.1:0", "--data-dir", dir.File("data"), "--public-metrics"},
      dir.File("stderr2.log"));
  ASSERT_TRUE(again.WaitReady(std::chrono::seconds(30)));
  EXPECT_EQ(again.Stderr().find("training a demo model"), std::string::npos);
  EXPECT_NE(again.Stdout().find("support-intent v1 @champion"), std::string::npos);
  // The key is not made or shown again; the saved one works; metrics are public now.
  EXPECT_NE(again.Stdout().find("admin API key: in " + dir.File("data") + "/admin.key"),
            std::string::npos)
      << again.Stdout();
  EXPECT_EQ(again.Stdout().find(key), std::string::npos);
  EXPECT_EQ(Fetch(again.port(), "GET", "/metrics").status, 200);
  EXPECT_EQ(Fetch(again.port(), "POST", "/v1/predict",
                  R"({"model":"support-intent@champion","text":"card"})", auth)
                .status,
            200);
}

}  // namespace
}  // namespace closedloop::testing
