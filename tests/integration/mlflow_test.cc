// The MLflow-compatible tracking server through the real binary: the npm `mlflow`
// client end to end, and MLflow's error format and codes for bad requests.
#include "integration/fixture.h"
#include "support/command.h"

namespace closedloop::testing {
namespace {

class MlflowTest : public ServerFixture {
 protected:
  HttpResult Post(const std::string& endpoint, const std::string& body) {
    return Fetch(port_, "POST", "/api/2.0/mlflow/" + endpoint, body);
  }
  HttpResult Get(const std::string& endpoint_and_query) {
    return Fetch(port_, "GET", "/api/2.0/mlflow/" + endpoint_and_query);
  }
  static std::string ErrorCode(const HttpResult& r) {
    return std::string(ParseJson(r.body)->Str("error_code"));
  }
};

TEST_F(MlflowTest, NodeMlflowClientLogsARun) {
  Start();
  auto r = RunCommand("node " + std::string(CLOSEDLOOP_SOURCE_DIR) +
                      "/tests/js/mlflow_client.js http://127.0.0.1:" + std::to_string(port_));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::string last = r.output.substr(r.output.rfind("\n{") + 1);  // the client logs request bodies
  auto j = ParseJson(last);
  std::string_view status, lr, stage;
  ASSERT_FALSE(j->root["run"]["info"]["status"].get(status));
  EXPECT_EQ(status, "FINISHED");
  simdjson::dom::array params, metrics, history;
  ASSERT_FALSE(j->root["run"]["data"]["params"].get(params));
  ASSERT_FALSE(j->root["run"]["data"]["metrics"].get(metrics));
  ASSERT_FALSE(j->root["history"].get(history));
  EXPECT_EQ(params.size(), 2u);
  ASSERT_FALSE(params.at(1)["value"].get(lr));
  EXPECT_EQ(lr, "0.5");
  double acc = 0;
  ASSERT_FALSE(metrics.at(0)["value"].get(acc));
  EXPECT_DOUBLE_EQ(acc, 0.9);  // the value at the highest step
  EXPECT_EQ(history.size(), 3u);
  ASSERT_FALSE(j->root["run"]["data"]["tags"].at(1)["value"].get(stage));
  EXPECT_EQ(stage, "evaluated");  // tags overwrite
  EXPECT_NE(j->Str("duplicate").find("RESOURCE_ALREADY_EXISTS"), std::string::npos);

  // Artifacts uploaded under the run's artifact_uri, listed by the npm client.
  std::string_view uri, root_uri, path0, path1, top;
  ASSERT_FALSE(j->root["artifact_uri"].get(uri));
  EXPECT_EQ(uri.find("mlflow-artifacts:/"), 0u) << uri;
  EXPECT_NE(uri.find("/artifacts"), std::string_view::npos) << uri;
  ASSERT_FALSE(j->root["listed"]["root_uri"].get(root_uri));
  EXPECT_EQ(root_uri, uri);
  simdjson::dom::array files;
  ASSERT_FALSE(j->root["listed"]["files"].get(files));
  ASSERT_EQ(files.size(), 2u);
  ASSERT_FALSE(files.at(0)["path"].get(path0));
  ASSERT_FALSE(files.at(1)["path"].get(path1));
  EXPECT_EQ(path0, "model/MLmodel");
  EXPECT_EQ(path1, "model/weights.bin");
  int64_t size = 0;
  ASSERT_FALSE(files.at(1)["file_size"].get(size));
  EXPECT_EQ(size, 6);
  ASSERT_FALSE(j->root["listed_root"]["files"].at(0)["path"].get(top));
  EXPECT_EQ(top, "model");
  bool same = false;
  ASSERT_FALSE(j->root["download_matches"].get(same));
  EXPECT_TRUE(same);
}

TEST_F(MlflowTest, ErrorsUseMlflowCodes) {
  Start();
  auto exp = Post("experiments/create", R"({"name":"e"})");
  ASSERT_EQ(exp.status, 200);
  auto dup = Post("experiments/create", R"({"name":"e"})");
  EXPECT_EQ(dup.status, 400);
  EXPECT_EQ(ErrorCode(dup), "RESOURCE_ALREADY_EXISTS");
  auto missing = Get("experiments/get?experiment_id=99");
  EXPECT_EQ(missing.status, 404);
  EXPECT_EQ(ErrorCode(missing), "RESOURCE_DOES_NOT_EXIST");
  auto no_name = Post("experiments/create", R"({"artifact_location":"x"})");
  EXPECT_EQ(no_name.status, 400);
  EXPECT_EQ(ErrorCode(no_name), "INVALID_PARAMETER_VALUE");
  EXPECT_NE(no_name.body.find("'name'"), std::string::npos);
  auto unknown = Post("runs/explode", "{}");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(ErrorCode(unknown), "ENDPOINT_NOT_FOUND");
  auto malformed = Post("runs/create", "{");
  EXPECT_EQ(malformed.status, 400);
  EXPECT_EQ(ErrorCode(malformed), "INVALID_PARAMETER_VALUE");

  // int64 fields as numbers or strings.
  auto run = Post("runs/create", R"({"experiment_id":"1","start_time":"1700000000000"})");
  ASSERT_EQ(run.status, 200) << run.body;
  std::string id(ParseJson(run.body)->root["run"]["info"]["run_id"].get_string().value());
  EXPECT_EQ(Post("runs/log-metric",
                 R"({"run_id":")" + id + R"(","key":"acc","value":0.5,"timestamp":"17","step":3})")
                .status,
            200);
  EXPECT_EQ(Post("runs/log-metric",
                 R"({"run_id":")" + id + R"(","key":"acc","value":0.5,"timestamp":"soon"})")
                .status,
            400);
  auto bad_run = Post("runs/log-parameter", R"({"run_id":"nope","key":"k","value":"v"})");
  EXPECT_EQ(bad_run.status, 404);
  EXPECT_EQ(ErrorCode(bad_run), "RESOURCE_DOES_NOT_EXIST");
  auto bad_filter = Post("runs/search", R"({"experiment_ids":["1"],"filter":"metrics.acc > 'x'"})");
  EXPECT_EQ(bad_filter.status, 400);
  auto history = Get("metrics/get-history?run_id=" + id + "&metric_key=acc");
  ASSERT_EQ(history.status, 200);
  EXPECT_NE(history.body.find(R"("timestamp":17,"step":3)"), std::string::npos) << history.body;
  EXPECT_EQ(Get("runs/create").status, 405);  // known endpoint, wrong method
}

}  // namespace
}  // namespace closedloop::testing
