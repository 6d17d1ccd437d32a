// Triton's model configuration, statistics and repository extensions, Triton-style
// classification on every kind of classifier, and the errors of models that exist
// but are not ready vs models that do not exist, through the real binary.
#include <filesystem>

#include "integration/fixture.h"
#include "support/onnx_models.h"
#include "support/xgboost_model.h"

namespace closedloop::testing {
namespace {

class OipExtensionsTest : public ServerFixture {};

uint64_t U(simdjson::dom::element e) {
  uint64_t v = 0;
  EXPECT_FALSE(e.get(v)) << simdjson::to_string(e);
  return v;
}

TEST_F(OipExtensionsTest, ModelConfigurationInTritonsShape) {
  std::filesystem::create_directories(dir_.File("models/mlp/1"));
  WriteMlpModel(dir_.File("models/mlp/1/model.onnx"));
  WriteFile(dir_.File("models/mlp/1/config.toml"),
            "flavor = \"onnx\"\n[batching]\nmax_batch_size = 8\nmax_queue_delay_us = 300\n"
            "max_queue_size = 64\n");
  Start();
  auto r = Fetch(port_, "GET", "/v2/models/support-intent/config");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = ParseJson(r.body);
  EXPECT_EQ(j->Str("name"), "support-intent");
  EXPECT_EQ(j->Str("backend"), "fasttext");
  EXPECT_EQ(U(j->root["max_batch_size"]), 0u);  // no batching: dims keep the batch dim
  std::string_view type;
  ASSERT_FALSE(j->root["input"].at(0)["data_type"].get(type));
  EXPECT_EQ(type, "TYPE_STRING");
  EXPECT_EQ(simdjson::to_string(j->root["input"].at(0)["dims"]), "[-1]");
  ASSERT_FALSE(j->root["output"].at(2)["data_type"].get(type));
  EXPECT_EQ(type, "TYPE_FP32");
  EXPECT_EQ(simdjson::to_string(j->root["output"].at(2)["dims"]), "[-1,77]");
  EXPECT_TRUE(j->root["version_policy"].is_object());
  EXPECT_TRUE(j->root["dynamic_batching"].error() == simdjson::NO_SUCH_FIELD);
  EXPECT_EQ(Fetch(port_, "GET", "/v2/models/support-intent/versions/1/config").status, 200);

  // A batching model: max_batch_size, dims without the batch dimension, dynamic_batching.
  auto b = Fetch(port_, "GET", "/v2/models/mlp/config");
  ASSERT_EQ(b.status, 200) << b.body;
  auto m = ParseJson(b.body);
  EXPECT_EQ(m->Str("platform"), "onnx");
  EXPECT_EQ(U(m->root["max_batch_size"]), 8u);
  EXPECT_EQ(simdjson::to_string(m->root["input"].at(0)["dims"]), "[4]");
  EXPECT_EQ(simdjson::to_string(m->root["output"].at(0)["dims"]), "[3]");
  EXPECT_EQ(U(m->root["dynamic_batching"]["max_queue_delay_microseconds"]), 300u);
  EXPECT_EQ(U(m->root["dynamic_batching"]["default_queue_policy"]["max_queue_size"]), 64u);

  auto unknown = Fetch(port_, "GET", "/v2/models/nope/config");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_FALSE(ParseJson(unknown.body)->Str("error").empty());
}

TEST_F(OipExtensionsTest, StatisticsCountSuccessesFailuresAndBatches) {
  Start();
  const std::string good =
      R"({"inputs":[{"name":"text","shape":[2],"datatype":"BYTES","data":["card","refund"]}]})";
  for (int i = 0; i < 3; ++i) {
    ASSERT_EQ(Fetch(port_, "POST", "/v2/models/support-intent/infer", good).status, 200);
  }
  const std::string bad =
      R"({"inputs":[{"name":"text","shape":[1],"datatype":"FP32","data":[1]}]})";
  EXPECT_EQ(Fetch(port_, "POST", "/v2/models/support-intent/infer", bad).status, 400);

  auto r = Fetch(port_, "GET", "/v2/models/support-intent/stats");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = ParseJson(r.body);
  auto s = j->root["model_stats"].at(0);
  std::string_view name, version;
  ASSERT_FALSE(s["name"].get(name));
  ASSERT_FALSE(s["version"].get(version));
  EXPECT_EQ(name, "support-intent");
  EXPECT_EQ(version, "1");
  EXPECT_EQ(U(s["inference_stats"]["success"]["count"]), 3u);
  EXPECT_GT(U(s["inference_stats"]["success"]["ns"]), 0u);
  EXPECT_EQ(U(s["inference_stats"]["fail"]["count"]), 1u);
  EXPECT_EQ(U(s["inference_stats"]["compute_infer"]["count"]), 3u);
  EXPECT_EQ(U(s["inference_count"]), 6u);  // rows
  EXPECT_EQ(U(s["execution_count"]), 3u);
  EXPECT_GT(U(s["last_inference"]), 0u);
  EXPECT_EQ(U(s["batch_stats"].at(0)["batch_size"]), 2u);
  EXPECT_EQ(U(s["batch_stats"].at(0)["compute_infer"]["count"]), 3u);

  // All models, and one version.
  auto all = ParseJson(Fetch(port_, "GET", "/v2/models/stats").body);
  EXPECT_GE(simdjson::dom::array(all->root["model_stats"]).size(), 1u);
  EXPECT_EQ(Fetch(port_, "GET", "/v2/models/support-intent/versions/1/stats").status, 200);
  EXPECT_EQ(Fetch(port_, "GET", "/v2/models/nope/stats").status, 404);
}

TEST_F(OipExtensionsTest, ClassificationOnTextXgboostAndOnnxClassifiers) {
  WriteXgboostModel(dir_.File("models/tier/1"), "multi:softprob");
  std::filesystem::create_directories(dir_.File("models/mlp/1"));
  WriteMlpModel(dir_.File("models/mlp/1/model.onnx"));
  WriteFile(dir_.File("models/mlp/1/config.toml"),
            "flavor = \"onnx\"\nlabels = [\"red\", \"green\", \"blue\"]\n");
  Start();
  // Text: class_count on the declared label output, as Triton's clients ask.
  auto t = Fetch(port_, "POST", "/v2/models/support-intent/infer",
                 R"({"inputs":[{"name":"text","shape":[1],"datatype":"BYTES",)"
                 R"("data":["I want a refund for this purchase"]}],)"
                 R"("outputs":[{"name":"label","parameters":{"classification":3}}]})");
  ASSERT_EQ(t.status, 200) << t.body;
  auto tj = ParseJson(t.body);
  EXPECT_EQ(simdjson::to_string(tj->root["outputs"].at(0)["shape"]), "[1,3]");
  std::string_view top;
  ASSERT_FALSE(tj->root["outputs"].at(0)["data"].at(0).get(top));
  auto v1 = ParseJson(
      Predict(R"({"model":"support-intent","text":"I want a refund for this purchase"})").body);
  EXPECT_EQ(std::string(top.substr(top.rfind(':') + 1)), v1->Str("label"));
  EXPECT_NEAR(std::stod(std::string(top)), v1->Num("confidence"), 1e-5);

  // XGBoost multi-class: score:index:label from its probabilities.
  auto x = Fetch(port_, "POST", "/v2/models/tier/infer",
                 R"({"inputs":[{"name":"features","shape":[2,3],"datatype":"FP32",)"
                 R"("data":[400,3,1,12,14,0]}],)"
                 R"("outputs":[{"name":"probabilities","parameters":{"classification":2}}]})");
  ASSERT_EQ(x.status, 200) << x.body;
  auto xj = ParseJson(x.body);
  EXPECT_EQ(simdjson::to_string(xj->root["outputs"].at(0)["shape"]), "[2,2]");
  auto ref = XgboostReference(dir_.File("models/tier/1/model.json"), {400, 3, 1, 12, 14, 0}, 2, 0);
  const char* names[] = {"low", "mid", "high"};
  for (int row = 0; row < 2; ++row) {
    int best = 0;
    for (int c = 1; c < 3; ++c) best = ref[row * 3 + c] > ref[row * 3 + best] ? c : best;
    std::string_view got;
    ASSERT_FALSE(xj->root["outputs"].at(0)["data"].at(row * 2).get(got));
    EXPECT_EQ(std::string(got.substr(got.find(':'))),
              ":" + std::to_string(best) + ":" + names[best]);
  }

  // ONNX with labels in its config: the same form on its FP32 [N,3] output.
  auto o =
      Fetch(port_, "POST", "/v2/models/mlp/infer",
            R"({"inputs":[{"name":"X","shape":[1,4],"datatype":"FP32","data":[0.5,-1,2,0.25]}],)"
            R"("outputs":[{"name":"Y","parameters":{"classification":3}}]})");
  ASSERT_EQ(o.status, 200) << o.body;
  auto oj = ParseJson(o.body);
  for (int k = 0; k < 3; ++k) {
    std::string_view e;
    ASSERT_FALSE(oj->root["outputs"].at(0)["data"].at(k).get(e));
    std::string label(e.substr(e.rfind(':') + 1));
    EXPECT_TRUE(label == "red" || label == "green" || label == "blue") << e;
  }
}

TEST_F(OipExtensionsTest, RepositoryIndexReadyFilterAndNotReadyVsUnknown) {
  // "broken" exists but cannot load; "later" is a directory unloaded by the test.
  std::filesystem::create_directories(dir_.File("models/broken/1"));
  WriteFile(dir_.File("models/broken/1/config.toml"), "flavor = \"onnx\"\n");
  WriteFile(dir_.File("models/broken/1/model.onnx"), "not an onnx file");
  Start();
  auto all = Fetch(port_, "POST", "/v2/repository/index", "");
  ASSERT_EQ(all.status, 200) << all.body;
  EXPECT_NE(all.body.find(R"({"name":"support-intent","version":"1","state":"READY"})"),
            std::string::npos)
      << all.body;
  EXPECT_NE(all.body.find(R"("name":"broken","version":"1","state":"UNAVAILABLE","reason":)"),
            std::string::npos)
      << all.body;
  auto ready = Fetch(port_, "POST", "/v2/repository/index", R"({"ready":true})");
  ASSERT_EQ(ready.status, 200);
  EXPECT_NE(ready.body.find("support-intent"), std::string::npos);
  EXPECT_EQ(ready.body.find("broken"), std::string::npos) << ready.body;
  EXPECT_EQ(Fetch(port_, "POST", "/v2/repository/index", R"({"ready":false})").body, all.body);
  auto bad = Fetch(port_, "POST", "/v2/repository/index", R"({"ready":"yes"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_EQ(ParseJson(bad.body)->Str("error"), "field 'ready' must be a boolean");
  EXPECT_EQ(Fetch(port_, "POST", "/v2/repository/index", R"({"x":1})").status, 400);

  // An unloaded model stays in the index with reason "unloaded", and is not ready.
  ASSERT_EQ(Fetch(port_, "POST", "/v2/repository/models/support-intent/unload", "").status, 200);
  auto after = Fetch(port_, "POST", "/v2/repository/index", "");
  EXPECT_NE(after.body.find(R"({"name":"support-intent","version":"1","state":"UNAVAILABLE",)"
                            R"("reason":"unloaded"})"),
            std::string::npos)
      << after.body;
  const std::string body =
      R"({"inputs":[{"name":"text","shape":[1],"datatype":"BYTES","data":["card"]}]})";
  auto not_ready = Fetch(port_, "POST", "/v2/models/support-intent/infer", body);
  EXPECT_EQ(not_ready.status, 503) << not_ready.body;
  EXPECT_NE(ParseJson(not_ready.body)->Str("error").find("is not ready"), std::string::npos);
  EXPECT_EQ(Fetch(port_, "GET", "/v2/models/support-intent/ready").status, 400);
  auto broken = Fetch(port_, "POST", "/v2/models/broken/infer", body);
  EXPECT_EQ(broken.status, 503) << broken.body;
  auto unknown = Fetch(port_, "POST", "/v2/models/nope/infer", body);
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(ParseJson(unknown.body)->Str("error"), "model 'nope' is not loaded");
}

}  // namespace
}  // namespace closedloop::testing
