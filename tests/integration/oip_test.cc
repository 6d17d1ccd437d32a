// Open Inference Protocol v2 through the real binary, driven with plain curl and
// the JSON fixtures in tests/fixtures/oip (the official Triton/KServe clients are
// not installable here).
#include <cstdio>

#include "integration/fixture.h"
#include "support/command.h"

namespace closedloop::testing {
namespace {

struct CurlResult {
  int status = 0;
  std::string body;
};

// curl -s -X METHOD [--data-binary @file | -d body] URL; the last line is the status.
CurlResult Curl(const std::string& method, const std::string& url, const std::string& data_arg) {
  auto run = RunCommand("curl -s -X " + method + " -H 'Content-Type: application/json' " +
                        data_arg + " -w '\\n%{http_code}' '" + url + "'");
  CurlResult r;
  size_t nl = run.output.rfind('\n');
  if (nl == std::string::npos) return r;
  r.status = std::atoi(run.output.c_str() + nl + 1);
  r.body = run.output.substr(0, nl);
  return r;
}

std::string FixturePath(const std::string& name) {
  return std::string(CLOSEDLOOP_SOURCE_DIR) + "/tests/fixtures/oip/" + name;
}

class OipTest : public ServerFixture {
 protected:
  std::string Url(const std::string& path) {
    return "http://127.0.0.1:" + std::to_string(port_) + path;
  }
};

TEST_F(OipTest, ServerAndModelMetadataAndReadiness) {
  Start();
  auto server = Curl("GET", Url("/v2"), "");
  ASSERT_EQ(server.status, 200);
  auto s = ParseJson(server.body);
  EXPECT_EQ(s->Str("name"), "closedloop");
  EXPECT_FALSE(s->Str("version").empty());
  EXPECT_TRUE(s->root["extensions"].is_array());

  for (const char* path : {"/v2/models/support-intent", "/v2/models/support-intent/versions/1",
                           "/v2/models/support-intent@champion"}) {
    auto meta = Curl("GET", Url(path), "");
    ASSERT_EQ(meta.status, 200) << path << meta.body;
    auto m = ParseJson(meta.body);
    EXPECT_EQ(m->Str("name"), "support-intent");
    EXPECT_EQ(m->Str("platform"), "fasttext");
    std::string_view v0;
    ASSERT_FALSE(m->root["versions"].at(0).get(v0));
    EXPECT_EQ(v0, "1");
    std::string_view in_type;
    ASSERT_FALSE(m->root["inputs"].at(0)["datatype"].get(in_type));
    EXPECT_EQ(in_type, "BYTES");
    int64_t dim = 0;
    ASSERT_FALSE(m->root["inputs"].at(0)["shape"].at(0).get(dim));
    EXPECT_EQ(dim, -1);  // variable batch
    int64_t classes = 0;
    ASSERT_FALSE(m->root["outputs"].at(2)["shape"].at(1).get(classes));
    EXPECT_EQ(classes, 77);
  }
  auto ready = Curl("GET", Url("/v2/models/support-intent/ready"), "");
  EXPECT_EQ(ready.status, 200);
  EXPECT_EQ(ready.body, "");
  EXPECT_EQ(Curl("GET", Url("/v2/models/support-intent/versions/1/ready"), "").status, 200);
  auto v9 = Curl("GET", Url("/v2/models/support-intent/versions/9/ready"), "");
  EXPECT_EQ(v9.status, 400);
  EXPECT_NE(v9.body.find("version 9"), std::string::npos);
  auto unknown = Curl("GET", Url("/v2/models/nope/ready"), "");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_EQ(ParseJson(unknown.body)->Str("error"), "model 'nope' is not loaded");
  EXPECT_EQ(Curl("GET", Url("/v2/health/live"), "").status, 200);
  EXPECT_EQ(Curl("GET", Url("/v2/health/ready"), "").status, 200);
}

TEST_F(OipTest, InferBytesBatchMatchesFixtureAndV1Predict) {
  Start();
  auto r = Curl("POST", Url("/v2/models/support-intent/infer"),
                "--data-binary @" + FixturePath("text_infer_request.json"));
  ASSERT_EQ(r.status, 200) << r.body;
  auto got = ParseJson(r.body);
  auto want = ParseJson(ReadFile(FixturePath("text_infer_response.json")));
  EXPECT_EQ(got->Str("model_name"), want->Str("model_name"));
  EXPECT_EQ(got->Str("model_version"), want->Str("model_version"));
  EXPECT_EQ(got->Str("id"), want->Str("id"));  // echoed
  simdjson::dom::array got_out, want_out;
  ASSERT_FALSE(got->root["outputs"].get(got_out));
  ASSERT_FALSE(want->root["outputs"].get(want_out));
  ASSERT_EQ(got_out.size(), want_out.size());
  for (size_t i = 0; i < want_out.size(); ++i) {
    for (const char* key : {"name", "datatype"}) {
      std::string_view a, b;
      ASSERT_FALSE(got_out.at(i)[key].get(a));
      ASSERT_FALSE(want_out.at(i)[key].get(b));
      EXPECT_EQ(a, b) << key;
    }
    EXPECT_EQ(simdjson::to_string(got_out.at(i)["shape"]),
              simdjson::to_string(want_out.at(i)["shape"]));
  }
  // The same texts through /v1/predict give the same labels and confidences.
  const char* texts[] = {"I still have not received my new card",
                         "I want a refund for this purchase"};
  for (size_t i = 0; i < 2; ++i) {
    auto v1 = Predict(std::string(R"({"model":"support-intent","text":")") + texts[i] + "\"}");
    ASSERT_EQ(v1.status, 200);
    auto p = ParseJson(v1.body);
    std::string_view label;
    double conf = 0;
    ASSERT_FALSE(got_out.at(0)["data"].at(i).get(label));
    ASSERT_FALSE(got_out.at(1)["data"].at(i).get(conf));
    EXPECT_EQ(label, p->Str("label"));
    EXPECT_NEAR(conf, p->Num("confidence"), 1e-6);
  }
  // Every row is in the prediction log: row 0 under the request id, row 1 as "<id>.1".
  std::string_view request_id;
  ASSERT_FALSE(got->root["parameters"]["request_id"].get(request_id));
  for (std::string id : {std::string(request_id), std::string(request_id) + ".1"}) {
    auto stored = Fetch(port_, "GET", "/v1/predictions/" + id);
    EXPECT_EQ(stored.status, 200) << id;
  }
}

TEST_F(OipTest, ClassificationAndOutputSelection) {
  Start();
  auto r = Curl("POST", Url("/v2/models/support-intent/versions/1/infer"),
                "--data-binary @" + FixturePath("text_classification_request.json"));
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = ParseJson(r.body);
  simdjson::dom::array outs;
  ASSERT_FALSE(j->root["outputs"].get(outs));
  ASSERT_EQ(outs.size(), 2u);  // only the requested outputs, in the requested order
  std::string_view name, type, first, label;
  ASSERT_FALSE(outs.at(0)["name"].get(name));
  ASSERT_FALSE(outs.at(0)["datatype"].get(type));
  EXPECT_EQ(name, "probabilities");
  EXPECT_EQ(type, "BYTES");
  EXPECT_EQ(simdjson::to_string(outs.at(0)["shape"]), "[1,3]");
  ASSERT_FALSE(outs.at(0)["data"].at(0).get(first));  // "p:index:label"
  ASSERT_FALSE(outs.at(1)["data"].at(0).get(label));
  EXPECT_EQ(std::string(first.substr(first.rfind(':') + 1)), std::string(label));
  EXPECT_FALSE(j->Str("id").empty());  // our request id when the request has none
}

TEST_F(OipTest, BadInferRequestsGetClearErrorsAndServerStaysUp) {
  Start();
  struct Case {
    std::string body;
    int status;
    std::string message;
  };
  std::vector<Case> cases = {
      {R"({"inputs":[{"name":"text","shape":[1],"datatype":"FP32","data":[1]}]})", 400,
       "input 'text' must be BYTES, not FP32"},
      {R"({"inputs":[{"name":"txt","shape":[1],"datatype":"BYTES","data":["a"]}]})", 400,
       "model 'support-intent' has no input 'txt' (inputs: text)"},
      {R"({"inputs":[{"name":"text","shape":[2],"datatype":"BYTES","data":["a"]}]})", 400,
       "shape [2] has 2 elements but 'data' has 1"},
      {R"({"inputs":[{"name":"text","shape":[1,1],"datatype":"BYTES","data":[["a"]]}]})", 400,
       "input 'text' must have shape [-1], not [1,1]"},
      {R"({"inputs":[{"name":"text","shape":[1],"datatype":"BYTES","data":["a"]}],)"
       R"("outputs":[{"name":"logits"}]})",
       400,
       "unknown output 'logits' (model 'support-intent' outputs: label, confidence, "
       "probabilities)"},
      {R"({"inputs":[{"name":"text","shape":[1],"datatype":"BYTES","data":["a"]}],)"
       R"("outputs":[{"name":"label","parameters":{"classification":0}}]})",
       400, "'classification' must be an integer 1-1000"},
      {R"({"inputs":[{"name":"text","shape":[1],"datatype":"BYTES","data":[" "]}]})", 400,
       "input 'text' element 0 is empty"},
      {R"({"inputs":[{"name":"text","shape":[1000000000000],"datatype":"BYTES","data":["a"]}]})",
       400, "is too large"},
      {"{\"inputs\":[{\"name\":\"text\",\"shape\":[1],\"datatype\":\"BYTES\",\"data\":[\"\xff\"]}]"
       "}",
       400, "malformed JSON"},
  };
  for (const auto& c : cases) {
    auto r = Fetch(port_, "POST", "/v2/models/support-intent/infer", c.body);
    EXPECT_EQ(r.status, c.status) << c.body << " -> " << r.body;
    EXPECT_NE(r.body.find(c.message), std::string::npos) << r.body;
  }
  EXPECT_EQ(Fetch(port_, "POST", "/v2/models/nope/infer", cases[0].body).status, 404);
  EXPECT_EQ(Fetch(port_, "GET", "/v2/models/support-intent/infer").status, 405);
  auto ok = Curl("POST", Url("/v2/models/support-intent/infer"),
                 "--data-binary @" + FixturePath("text_infer_request.json"));
  ASSERT_EQ(ok.status, 200);
  // Nothing acknowledged is lost: both rows of the answered request are in the log.
  std::string id(ParseJson(ok.body)->root["parameters"]["request_id"].get_string().value());
  EXPECT_EQ(Fetch(port_, "GET", "/v1/predictions/" + id).status, 200);
  EXPECT_EQ(Fetch(port_, "GET", "/v1/predictions/" + id + ".1").status, 200);
}

}  // namespace
}  // namespace closedloop::testing
