// MLflow's artifact API and the registry calls MLflow's clients make, through the
// real binary with raw HTTP: upload, download, list, delete, paths confined to the
// store, the per-route upload limit, a model version whose source is uploaded
// artifacts (served), version tags, paged version search, stage transitions.
#include <poll.h>

#include <chrono>
#include <filesystem>

#include "integration/fixture.h"
#include "support/onnx_models.h"

namespace closedloop::testing {
namespace {

namespace fs = std::filesystem;

constexpr const char* kArtifactConfig = R"(
[server]
body_limit_bytes = 65536
upload_limit_bytes = 200000
[serving]
image_body_limit_bytes = 0
)";
const std::vector<std::pair<std::string, std::string>> kOctets = {
    {"Content-Type", "application/octet-stream"}};

class ArtifactsTest : public ServerFixture {
 protected:
  HttpResult Artifact(const std::string& method, const std::string& path,
                      const std::string& body = "") {
    return Fetch(port_, method, "/api/2.0/mlflow-artifacts/artifacts/" + path, body, kOctets);
  }
  HttpResult Mlflow(const std::string& method, const std::string& path,
                    const std::string& body = "") {
    return Fetch(port_, method, "/api/2.0/mlflow/" + path, body);
  }
  static std::string Field(const HttpResult& r, const char* a, const char* b) {
    std::string_view v;
    auto j = ParseJson(r.body);
    if (j->root[a][b].get(v)) return "";
    return std::string(v);
  }
  bool WaitReady(const std::string& path) {
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (std::chrono::steady_clock::now() < end) {
      if (Fetch(port_, "GET", path).status == 200) return true;
      poll(nullptr, 0, 20);
    }
    return false;
  }
};

TEST_F(ArtifactsTest, UploadDownloadListDelete) {
  Start(kArtifactConfig);
  std::string bytes;
  for (int i = 0; i < 100000; ++i) bytes.push_back(static_cast<char>(i * 7 % 256));
  // Larger than the server's body limit (64 KiB) but within the upload limit.
  auto put = Artifact("PUT", "exp/run1/artifacts/model/weights.bin", bytes);
  ASSERT_EQ(put.status, 200) << put.body;
  ASSERT_EQ(Artifact("PUT", "exp/run1/artifacts/notes%20one.txt", "hello").status, 200);
  auto got = Artifact("GET", "exp/run1/artifacts/model/weights.bin");
  ASSERT_EQ(got.status, 200);
  EXPECT_EQ(got.body, bytes);
  EXPECT_EQ(got.Header("Content-Type"), "application/octet-stream");
  auto text = Artifact("GET", "exp/run1/artifacts/notes%20one.txt");
  EXPECT_EQ(text.body, "hello");
  EXPECT_EQ(text.Header("Content-Type"), "text/plain; charset=utf-8");
  // The files sit under <data_dir>/artifacts.
  EXPECT_EQ(ReadFile(dir_.File("artifacts/exp/run1/artifacts/notes one.txt")), "hello");

  auto list = Fetch(port_, "GET", "/api/2.0/mlflow-artifacts/artifacts?path=exp/run1/artifacts");
  ASSERT_EQ(list.status, 200) << list.body;
  EXPECT_EQ(list.body, R"({"files":[{"path":"model","is_dir":true},)"
                       R"({"path":"notes one.txt","is_dir":false,"file_size":5}]})");
  auto empty = Fetch(port_, "GET", "/api/2.0/mlflow-artifacts/artifacts?path=nothing");
  EXPECT_EQ(empty.body, R"({"files":[]})");

  ASSERT_EQ(Artifact("DELETE", "exp/run1/artifacts/model").status, 200);
  auto gone = Artifact("GET", "exp/run1/artifacts/model/weights.bin");
  EXPECT_EQ(gone.status, 404);
  EXPECT_NE(gone.body.find("RESOURCE_DOES_NOT_EXIST"), std::string::npos) << gone.body;
  EXPECT_EQ(Artifact("DELETE", "exp/run1/artifacts/model").status, 404);
}

TEST_F(ArtifactsTest, PathsOutsideTheStoreAndOversizedUploadsAreRejected) {
  Start(kArtifactConfig);
  for (const char* bad : {"../escape.txt", "a/%2e%2e/%2e%2e/escape.txt", "%2fetc%2fescape.txt",
                          "a//b.txt", "a%5cb.txt", "a%00b.txt"}) {
    auto r = Artifact("PUT", bad, "x");
    EXPECT_EQ(r.status, 400) << bad << ": " << r.body;
    EXPECT_NE(r.body.find("INVALID_PARAMETER_VALUE"), std::string::npos) << r.body;
    EXPECT_EQ(Artifact("GET", bad).status, 400) << bad;
  }
  EXPECT_FALSE(fs::exists(dir_.File("escape.txt")));
  EXPECT_FALSE(fs::exists("/etc/escape.txt"));
  auto big = Artifact("PUT", "big.bin", std::string(300000, 'x'));
  EXPECT_EQ(big.status, 413) << big.body;
  EXPECT_FALSE(fs::exists(dir_.File("artifacts/big.bin")));
  // Other routes keep the server-wide limit.
  auto predict = Fetch(port_, "POST", "/v1/predict", std::string(100000, ' '));
  EXPECT_EQ(predict.status, 413);
  // The server is still up and the store still works.
  EXPECT_EQ(Artifact("PUT", "ok.txt", "fine").status, 200);
}

TEST_F(ArtifactsTest, VersionFromUploadedArtifactsIsServedAndRegistryCallsWork) {
  Start(kArtifactConfig);
  auto run = Mlflow("POST", "runs/create", R"({"experiment_id":"0","run_name":"upload"})");
  ASSERT_EQ(run.status, 200) << run.body;
  auto j = ParseJson(run.body);
  std::string_view run_id, artifact_uri;
  ASSERT_FALSE(j->root["run"]["info"]["run_id"].get(run_id));
  ASSERT_FALSE(j->root["run"]["info"]["artifact_uri"].get(artifact_uri));
  ASSERT_EQ(artifact_uri.find("mlflow-artifacts:/"), 0u) << artifact_uri;
  const std::string rel(artifact_uri.substr(std::string_view("mlflow-artifacts:/").size()));

  // The model directory, uploaded file by file as MLflow's client does.
  Mlp mlp = WriteMlpModel(dir_.File("upload.onnx"));
  ASSERT_EQ(Artifact("PUT", rel + "/model/model.onnx", ReadFile(dir_.File("upload.onnx"))).status,
            200);
  ASSERT_EQ(Artifact("PUT", rel + "/model/config.toml", "flavor = \"onnx\"\n").status, 200);
  auto listed = Mlflow("GET", "artifacts/list?run_id=" + std::string(run_id) + "&path=model");
  ASSERT_EQ(listed.status, 200);
  EXPECT_NE(listed.body.find(R"("path":"model/config.toml","is_dir":false)"), std::string::npos)
      << listed.body;

  ASSERT_EQ(Mlflow("POST", "registered-models/create", R"({"name":"uploaded"})").status, 200);
  auto v1 = Mlflow("POST", "model-versions/create",
                   R"({"name":"uploaded","source":")" + std::string(artifact_uri) +
                       R"(/model","run_id":")" + std::string(run_id) + R"("})");
  ASSERT_EQ(v1.status, 200) << v1.body;
  EXPECT_EQ(Field(v1, "model_version", "version"), "1");
  auto v2 = Mlflow("POST", "model-versions/create",
                   R"({"name":"uploaded","source":"runs:/)" + std::string(run_id) + R"(/model"})");
  ASSERT_EQ(v2.status, 200) << v2.body;
  auto bad_source =
      Mlflow("POST", "model-versions/create",
             R"({"name":"uploaded","source":"mlflow-artifacts:/)" + rel + R"(/nothing"})");
  EXPECT_EQ(bad_source.status, 400) << bad_source.body;
  auto escaping = Mlflow("POST", "model-versions/create",
                         R"({"name":"uploaded","source":"mlflow-artifacts:/../../etc"})");
  EXPECT_EQ(escaping.status, 400) << escaping.body;

  // Version 1 is served and computes what the uploaded weights say.
  ASSERT_TRUE(WaitReady("/v2/models/uploaded/versions/1/ready"));
  auto infer = Fetch(port_, "POST", "/v2/models/uploaded/versions/1/infer",
                     R"({"inputs":[{"name":"X","shape":[1,4],"datatype":"FP32",)"
                     R"("data":[0.5,-1,2,0.25]}]})");
  ASSERT_EQ(infer.status, 200) << infer.body;
  auto want = MlpReference(mlp, {0.5f, -1.0f, 2.0f, 0.25f}, 1);
  auto out = ParseJson(infer.body);
  simdjson::dom::array data;
  ASSERT_FALSE(out->root["outputs"].at(0)["data"].get(data));
  ASSERT_EQ(data.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) {
    EXPECT_NEAR(data.at(i).get_double().value(), want[i], 1e-5);
  }

  // Version tags: set, search by tag, delete; closedloop.* tags are the server's own.
  ASSERT_EQ(Mlflow("POST", "model-versions/set-tag",
                   R"({"name":"uploaded","version":"2","key":"team","value":"cv"})")
                .status,
            200);
  auto by_tag = Mlflow("GET", "model-versions/search?filter=tags.team%20%3D%20%27cv%27");
  ASSERT_EQ(by_tag.status, 200) << by_tag.body;
  EXPECT_NE(by_tag.body.find(R"("version":"2")"), std::string::npos) << by_tag.body;
  EXPECT_EQ(by_tag.body.find(R"("version":"1")"), std::string::npos) << by_tag.body;
  auto reserved = Mlflow("POST", "model-versions/set-tag",
                         R"({"name":"uploaded","version":"2","key":"closedloop.x","value":"1"})");
  EXPECT_EQ(reserved.status, 400) << reserved.body;
  EXPECT_EQ(Mlflow("POST", "model-versions/set-tag",
                   R"({"name":"uploaded","version":"9","key":"team","value":"cv"})")
                .status,
            404);
  ASSERT_EQ(Mlflow("DELETE", "model-versions/delete-tag",
                   R"({"name":"uploaded","version":"2","key":"team"})")
                .status,
            200);
  EXPECT_EQ(Mlflow("GET", "model-versions/search?filter=tags.team%20%3D%20%27cv%27").body,
            R"({"model_versions":[]})");

  // Paged search, newest first: one per page, the token leads to the next.
  auto page1 = Mlflow("GET",
                      "model-versions/search?filter=name%3D%27uploaded%27&max_results=1&"
                      "order_by=version_number%20DESC");
  ASSERT_EQ(page1.status, 200) << page1.body;
  auto p1 = ParseJson(page1.body);
  std::string_view token;
  ASSERT_FALSE(p1->root["next_page_token"].get(token)) << page1.body;
  EXPECT_NE(page1.body.find(R"("version":"2")"), std::string::npos);
  auto page2 = Mlflow("GET",
                      "model-versions/search?filter=name%3D%27uploaded%27&max_results=1&"
                      "order_by=version_number%20DESC&page_token=" +
                          std::string(token));
  ASSERT_EQ(page2.status, 200) << page2.body;
  EXPECT_NE(page2.body.find(R"("version":"1")"), std::string::npos) << page2.body;
  EXPECT_EQ(page2.body.find("next_page_token"), std::string::npos) << page2.body;
  EXPECT_EQ(Mlflow("GET", "model-versions/search?max_results=0").status, 400);
  EXPECT_EQ(Mlflow("GET", "model-versions/search?filter=version_number%20%3E%20%27x").status, 400);

  // Stage transitions with archive_existing_versions, then the latest per stage.
  ASSERT_EQ(Mlflow("POST", "model-versions/transition-stage",
                   R"({"name":"uploaded","version":"1","stage":"Production"})")
                .status,
            200);
  auto promote = Mlflow("POST", "model-versions/transition-stage",
                        R"({"name":"uploaded","version":"2","stage":"Production",)"
                        R"("archive_existing_versions":true})");
  ASSERT_EQ(promote.status, 200) << promote.body;
  EXPECT_EQ(Field(Mlflow("GET", "model-versions/get?name=uploaded&version=1"), "model_version",
                  "current_stage"),
            "Archived");
  auto latest = Mlflow("POST", "registered-models/get-latest-versions",
                       R"({"name":"uploaded","stages":["production"]})");
  ASSERT_EQ(latest.status, 200);
  EXPECT_NE(latest.body.find(R"("version":"2")"), std::string::npos) << latest.body;
  EXPECT_EQ(latest.body.find(R"("version":"1")"), std::string::npos) << latest.body;
  EXPECT_EQ(Mlflow("POST", "model-versions/transition-stage",
                   R"({"name":"uploaded","version":"2","stage":"Shipped"})")
                .status,
            400);
}

}  // namespace
}  // namespace closedloop::testing
