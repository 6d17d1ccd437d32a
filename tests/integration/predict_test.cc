// /v1/predict and /v1/predictions/{id} through the real binary, including every
// bad input the foundation issue names.
#include <sqlite3.h>

#include <filesystem>
#include <set>

#include "core/sha256.h"
#include "integration/fixture.h"

namespace closedloop::testing {
namespace {

class PredictTest : public ServerFixture {};

int64_t CountPredictions(const std::string& db_path) {
  sqlite3* db = nullptr;
  if (sqlite3_open_v2(db_path.c_str(), &db, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK) return -1;
  sqlite3_stmt* stmt = nullptr;
  sqlite3_prepare_v2(db, "SELECT count(*) FROM predictions", -1, &stmt, nullptr);
  int64_t n = sqlite3_step(stmt) == SQLITE_ROW ? sqlite3_column_int64(stmt, 0) : -1;
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return n;
}

TEST_F(PredictTest, PredictionIsAnsweredLoggedAndReadable) {
  Start();
  const std::string text = "I still haven't received my new card, when will it arrive?";
  auto r = Predict(R"({"model":"support-intent","text":")" + text + R"(","top_k":3})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = ParseJson(r.body);
  std::string id(j->Str("request_id"));
  EXPECT_EQ(id.size(), 26u);
  EXPECT_EQ(r.Header("X-Request-Id"), id);
  EXPECT_EQ(j->Str("model"), "support-intent");
  EXPECT_EQ(j->Str("version"), "1");
  EXPECT_GT(j->Num("confidence"), 0);
  EXPECT_LE(j->Num("confidence"), 1);
  EXPECT_GE(j->Num("latency_ms"), 0);
  simdjson::dom::array top;
  ASSERT_FALSE(j->root["top_k"].get(top));
  ASSERT_EQ(top.size(), 3u);
  std::string_view first_label;
  ASSERT_FALSE(top.at(0)["label"].get(first_label));
  EXPECT_EQ(first_label, j->Str("label"));
  double p0 = 0, p1 = 0;
  ASSERT_FALSE(top.at(0)["p"].get(p0));
  ASSERT_FALSE(top.at(1)["p"].get(p1));
  EXPECT_GE(p0, p1);
  EXPECT_DOUBLE_EQ(p0, j->Num("confidence"));

  auto stored = Fetch(port_, "GET", "/v1/predictions/" + id);
  ASSERT_EQ(stored.status, 200) << stored.body;
  auto s = ParseJson(stored.body);
  EXPECT_EQ(s->Str("request_id"), id);
  EXPECT_EQ(s->Str("label"), j->Str("label"));
  EXPECT_EQ(s->Str("input_text"), text);
  EXPECT_EQ(s->Str("input_sha256"), Sha256Hex(text));
  EXPECT_DOUBLE_EQ(s->Num("confidence"), j->Num("confidence"));
  EXPECT_GT(s->Num("ts_ms"), 1.7e12);

  auto missing = Fetch(port_, "GET", "/v1/predictions/01NOPE");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("no prediction with request_id '01NOPE'"), std::string::npos);
}

TEST_F(PredictTest, UncertaintyOnAFastTextModelIsAClear400) {
  Start();
  auto r = Predict(R"({"model":"support-intent","text":"lost my card","uncertainty":true})");
  EXPECT_EQ(r.status, 400) << r.body;
  EXPECT_NE(r.body.find("field 'uncertainty'"), std::string::npos) << r.body;
  EXPECT_EQ(Predict(R"({"model":"support-intent","text":"lost my card"})").status, 200);
}

TEST_F(PredictTest, AliasesAndVersions) {
  Start();
  auto alias = Predict(R"({"model":"support-intent@champion","text":"lost my card"})");
  ASSERT_EQ(alias.status, 200) << alias.body;
  EXPECT_EQ(ParseJson(alias.body)->Str("version"), "1");
  EXPECT_EQ(Predict(R"({"model":"support-intent","version":1,"text":"lost card"})").status, 200);
  auto v9 = Predict(R"({"model":"support-intent","version":"9","text":"lost card"})");
  EXPECT_EQ(v9.status, 404);
  EXPECT_NE(v9.body.find("version 9 of model 'support-intent' is not loaded"), std::string::npos);
  auto bad_alias = Predict(R"({"model":"support-intent@shadow","text":"lost card"})");
  EXPECT_EQ(bad_alias.status, 404);
  EXPECT_NE(bad_alias.body.find("alias 'shadow'"), std::string::npos);
}

TEST_F(PredictTest, QuantizedFtzVersionIsServed) {
  std::string repo = InstallTestModel(dir_.path());
  std::filesystem::create_directories(repo + "/support-intent/2");
  QuantizeFastTextModel(repo + "/support-intent/1/model.bin", repo + "/support-intent/2/model.ftz");
  std::filesystem::copy(repo + "/support-intent/1/config.toml",
                        repo + "/support-intent/2/config.toml");
  Start(kTestConfig, /*install_model=*/false);
  auto r = Predict(R"({"model":"support-intent","version":2,"text":"my card has not arrived"})");
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(ParseJson(r.body)->Str("version"), "2");
}

TEST_F(PredictTest, StoreInputsFalseKeepsOnlyTheHash) {
  Start(std::string(kTestConfig) + "[prediction_log]\nstore_inputs = false\n");
  auto r = Predict(R"({"model":"support-intent","text":"refund please"})");
  ASSERT_EQ(r.status, 200);
  auto stored =
      Fetch(port_, "GET", "/v1/predictions/" + std::string(ParseJson(r.body)->Str("request_id")));
  ASSERT_EQ(stored.status, 200);
  auto s = ParseJson(stored.body);
  EXPECT_TRUE(s->root["input_text"].is_null());
  EXPECT_EQ(s->Str("input_sha256"), Sha256Hex("refund please"));
}

struct BadCase {
  std::string name;
  std::string method, path, body;
  std::vector<std::pair<std::string, std::string>> headers;
  int status;
  std::string message;  // a substring of the error
};

TEST_F(PredictTest, BadInputGetsClearErrorsServerStaysUpNothingLost) {
  Start();
  const std::vector<std::pair<std::string, std::string>> json = {
      {"Content-Type", "application/json"}};
  std::vector<BadCase> cases = {
      {"malformed", "POST", "/v1/predict", R"({"model": "support-intent", "text": )", json, 400,
       "malformed JSON"},
      {"not object", "POST", "/v1/predict", R"(["support-intent"])", json, 400,
       "must be a JSON object"},
      {"empty body", "POST", "/v1/predict", "", json, 400, "request body is empty"},
      {"missing text", "POST", "/v1/predict", R"({"model":"support-intent"})", json, 400,
       "missing field 'text'"},
      {"missing model", "POST", "/v1/predict", R"({"text":"hi"})", json, 400,
       "missing field 'model'"},
      {"wrong type", "POST", "/v1/predict", R"({"model":"support-intent","text":42})", json, 400,
       "field 'text' must be a string"},
      {"empty text", "POST", "/v1/predict", R"({"model":"support-intent","text":""})", json, 400,
       "field 'text' must not be empty"},
      {"text too long", "POST", "/v1/predict",
       R"({"model":"support-intent","text":")" + std::string(2001, 'a') + "\"}", json, 400,
       "field 'text' is 2001 bytes; the limit is 2000"},
      {"unknown model", "POST", "/v1/predict", R"({"model":"nope","text":"hi"})", json, 404,
       "model 'nope' is not loaded"},
      {"body over limit", "POST", "/v1/predict", std::string(70000, ' '), json, 413,
       "exceeds the limit of 65536 bytes"},
      {"content type",
       "POST",
       "/v1/predict",
       R"({"model":"support-intent","text":"hi"})",
       {{"Content-Type", "text/plain"}},
       415,
       "Content-Type 'text/plain' is not supported"},
      {"unknown route", "GET", "/v1/nothing", "", {}, 404, "no route for GET /v1/nothing"},
      {"wrong method", "GET", "/v1/predict", "", {}, 405, "method GET is not allowed"},
      {"invalid utf8", "POST", "/v1/predict",
       "{\"model\":\"support-intent\",\"text\":\"\xc3\x28\"}", json, 400, "malformed JSON"},
  };
  int ok_predictions = 0;
  for (const auto& c : cases) {
    // Interleave good requests: every acknowledged prediction must be logged.
    ASSERT_EQ(Predict(R"({"model":"support-intent","text":"card arrival"})").status, 200);
    ++ok_predictions;
    auto r = Fetch(port_, c.method, c.path, c.body, c.headers);
    EXPECT_EQ(r.status, c.status) << c.name << ": " << r.body;
    EXPECT_NE(r.body.find(c.message), std::string::npos) << c.name << ": " << r.body;
    EXPECT_FALSE(r.Header("X-Request-Id").empty()) << c.name;
    EXPECT_EQ(r.Header("Content-Type"), "application/json") << c.name;
    auto j = ParseJson(r.body);  // always a JSON error body
    EXPECT_TRUE(j->Has("error")) << c.name;
    if (c.status == 405) {
      EXPECT_EQ(r.Header("Allow"), "POST");
    }
  }
  EXPECT_EQ(Fetch(port_, "GET", "/v2/health/live").status, 200);
  // Stop the server: the shutdown flushes the log, then every 200 must be there.
  server_->Signal(SIGTERM);
  ASSERT_EQ(server_->WaitExit(std::chrono::seconds(20)), 0);
  EXPECT_EQ(CountPredictions(dir_.File("predictions.db")), ok_predictions);
}

}  // namespace
}  // namespace closedloop::testing
