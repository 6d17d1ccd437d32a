// `closedloop up` on an empty data dir (the `make up` path): trains the demo model
// from examples/support/data, sets the champion alias, serves it.
#include <gtest/gtest.h>

#include <regex>

#include "support/http_client.h"
#include "support/json.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace closedloop::testing {
namespace {

TEST(DemoTest, UpOnEmptyDataDirTrainsAndServesTheSupportModel) {
  TempDir dir;
  ServerProcess server({"up", "--listen", "127.0.0.1:0", "--data-dir", dir.File("data")},
                       dir.File("stderr.log"));
  ASSERT_TRUE(server.WaitReady(std::chrono::minutes(3))) << server.Stderr();
  auto r = Fetch(server.port(), "POST", "/v1/predict",
                 R"({"model":"support-intent@champion","text":"My card still has not arrived",)"
                 R"("top_k":3})");
  ASSERT_EQ(r.status, 200) << r.body;
  // Training runs on every core (fastText's parallel SGD is not bit-reproducible), so
  // assert what holds for any decent model rather than one exact top-1 label.
  EXPECT_NE(r.body.find(R"("label":"card_arrival")"), std::string::npos) << r.body;
  std::smatch m;
  std::string err = server.Stderr();
  ASSERT_TRUE(std::regex_search(err, m, std::regex("test_accuracy=([0-9.]+)"))) << err;
  EXPECT_GT(std::stod(m[1]), 0.8);  // Banking77 test set, 77 intents
  // The demo's training run is in the tracking server, with its test accuracy.
  auto runs = Fetch(server.port(), "POST", "/api/2.0/mlflow/runs/search",
                    R"({"experiment_ids":["1"],"filter":"metrics.validation_accuracy > 0.8"})");
  ASSERT_EQ(runs.status, 200) << runs.body;
  EXPECT_NE(runs.body.find(R"("run_name":")"), std::string::npos) << runs.body;
  EXPECT_NE(runs.body.find(R"({"key":"label_col","value":"category"})"), std::string::npos);
  // A second start reuses the trained model instead of training again.
  server.Signal(SIGTERM);
  ASSERT_EQ(server.WaitExit(std::chrono::seconds(20)), 0);
  ServerProcess again({"up", "--listen", "127.0.0.1:0", "--data-dir", dir.File("data")},
                      dir.File("stderr2.log"));
  ASSERT_TRUE(again.WaitReady(std::chrono::seconds(30)));
  EXPECT_EQ(again.Stderr().find("training the demo model"), std::string::npos);
}

}  // namespace
}  // namespace closedloop::testing
