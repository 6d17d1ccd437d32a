// The web console through the real binary and a real browser: two trained and
// registered versions, support traffic with feedback and escalations, a rollout;
// then headless Chromium (playwright-core) signs in, opens every page, checks
// that the charts drew points from that traffic, and promotes and rolls back
// through the page's buttons. Also the console's JSON routes' bad input.
#include <gtest/gtest.h>

#include <chrono>
#include <functional>
#include <iostream>
#include <map>
#include <sstream>

#include "integration/fixture.h"
#include "support/banking77.h"
#include "support/command.h"

namespace closedloop::testing {
namespace {

const std::string kSource = CLOSEDLOOP_SOURCE_DIR_FOR_TESTS;
const std::string kData = kSource + "/examples/support/data";

class ConsoleTest : public ServerFixture {
 protected:
  void SetUp() override {
    SplitByLabel(kData + "/train.csv", HeldOutIntents(), dir_.File("five_train.csv"),
                 dir_.File("rest_train.csv"));
    SplitByLabel(kData + "/test.csv", HeldOutIntents(), dir_.File("five_test.csv"),
                 dir_.File("rest_test.csv"));
    for (const char* args :
         {" --max-epochs 4 --seed 1 --alias champion", " --max-epochs 3 --seed 2"}) {
      auto trained = RunClosedloop("train text --model mlp --input " + dir_.File("five_train.csv") +
                                   " --test " + dir_.File("five_test.csv") +
                                   " --label-col category --hidden 32 --threads 1 --progress never"
                                   " --data-dir " +
                                   dir_.path() + " --register support-intent" + args);
      ASSERT_EQ(trained.exit_code, 0) << trained.output;
    }
    WriteFile(dir_.File("support.toml"), R"(intent_model = "support-intent@champion"
sentiment_model = ""
confidence_threshold = 0.0
high_risk_intents = ["exchange_rate"]
default_reply = "About {intent}."
)");
    Start(std::string(kTestConfig) +
              "[auth]\nenabled = true\n[prediction_log]\nstore_inputs = true\n" +
              "[support]\nrules_file = \"" + dir_.File("support.toml") + "\"\n" +
              "[feedback]\nsentiment_model = \"support-intent\"\n"
              "[monitor]\ninterval_ms = 300\nmin_window = 20\nwindow_predictions = 200\n"
              "[slo]\nhistory_interval_ms = 200\n"
              "[rollout]\nauto_start = false\nshadow_share = 0\ncanary_steps = [50, 100]\n"
              "min_requests = 100000\nmin_feedback = 100000\nevaluate_interval_ms = 200\n",
          /*install_model=*/false);
    admin_ = CreateApiKey(dir_.path(), "ops", "admin");
    viewer_ = CreateApiKey(dir_.path(), "viewer", "metrics");
    ASSERT_FALSE(admin_.empty() || viewer_.empty());
  }
  std::vector<std::pair<std::string, std::string>> As(const std::string& k) {
    return {{"Content-Type", "application/json"}, {"X-Api-Key", k}};
  }
  HttpResult Get(const std::string& path) { return Fetch(port_, "GET", path, "", As(admin_)); }
  HttpResult Post(const std::string& path, const std::string& body) {
    return Fetch(port_, "POST", path, body, As(admin_));
  }

  // Support inquiries with ratings, NPS, clicks and comments of two kinds.
  int Traffic(size_t n) {
    const std::vector<std::string> happy = {
        "fast and helpful answer thanks", "helpful answer thanks a lot", "very fast helpful reply"};
    const std::vector<std::string> angry = {"wrong answer about my refund useless",
                                            "useless wrong refund reply",
                                            "the refund answer was wrong"};
    auto rows = ReadTextLabelRows(dir_.File("five_test.csv"));
    int sent = 0;
    for (size_t i = 0; i < rows.size() && static_cast<size_t>(sent) < n; i += 3, ++sent) {
      auto r =
          Post("/v1/support/inquiries", R"({"text":)" + JsonString(rows[i].text) +
                                            R"(,"customer_id":"c)" + std::to_string(i) + "\"}");
      EXPECT_EQ(r.status, 200) << r.body;
      auto j = ParseJson(r.body);
      if (!j->Has("request_id")) continue;
      const bool good = sent % 3 != 0;
      const auto& comments = good ? happy : angry;
      auto fb = Post("/v1/feedback", R"({"request_id":")" + std::string(j->Str("request_id")) +
                                         R"(","rating":)" + (good ? "5" : "1") + R"(,"nps":)" +
                                         (good ? "9" : "3") + R"(,"click":)" +
                                         (good ? "true" : "false") + R"(,"comment":)" +
                                         JsonString(comments[static_cast<size_t>(sent) % 3]) + "}");
      EXPECT_EQ(fb.status, 201) << fb.body;
    }
    return sent;
  }

  // Waits (polling the server, bounded) until `ready` holds for the body of `path`.
  bool Eventually(const std::string& path, const std::function<bool(const std::string&)>& ready) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      if (ready(Get(path).body)) return true;
    }
    return false;
  }

  std::string Node(const std::string& mode) {
    const std::string shots = kSource + "/build/test-artifacts";
    RunCommand("mkdir -p " + shots);
    auto r = RunCommand("node " + kSource + "/tests/js/console_pages.js http://127.0.0.1:" +
                        std::to_string(port_) + " " + admin_ + " " + shots + " " + mode + " 2>&1");
    EXPECT_EQ(r.exit_code, 0) << r.output;
    std::cout << r.output;
    return r.output;
  }

  std::string admin_, viewer_;
};

// Requests over the points of a /v1/metrics/history answer.
int64_t HistoryRequests(const std::string& body) {
  auto j = ParseJson(body);
  int64_t n = 0;
  simdjson::dom::array points;
  if (j->root["points"].get_array().get(points)) return 0;
  for (auto p : points) {
    int64_t r = 0;
    if (!p["requests"].get_int64().get(r)) n += r;
  }
  return n;
}

std::map<std::string, std::string> Lines(const std::string& output, const std::string& kind) {
  std::map<std::string, std::string> out;
  std::istringstream lines(output);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream in(line);
    std::string what, name, value;
    in >> what >> name >> value;
    if (what == kind) out[name] = value;
  }
  return out;
}

TEST_F(ConsoleTest, EveryPageDrawsTheTrafficAndTheButtonsPromoteAndRollBack) {
  auto started = Post("/v1/rollouts", R"({"model":"support-intent","version":2})");
  ASSERT_EQ(started.status, 201) << started.body;
  const std::string first(ParseJson(started.body)->Str("id"));
  ASSERT_EQ(Traffic(60), 60);
  // The history has a point with the traffic; the drift monitor kept two reports.
  ASSERT_TRUE(Eventually("/v1/metrics/history?minutes=5", [](const std::string& b) {
    return HistoryRequests(b) >= 120;
  })) << Get("/v1/metrics/history?minutes=5").body;
  ASSERT_TRUE(Eventually("/v1/drift?model=support-intent", [](const std::string& b) {
    size_t ok = 0;
    for (size_t at = b.find(R"("state":"ok")"); at != std::string::npos;
         at = b.find(R"("state":"ok")", at + 1)) {
      ++ok;
    }
    return ok >= 2;
  })) << Get("/v1/drift?model=support-intent").body;

  const std::string out = Node("pages");
  EXPECT_NE(out.find("login ok"), std::string::npos) << out;
  auto charts = Lines(out, "chart");
  for (const char* c :
       {"overview/rate", "overview/latency", "models/reliability", "models/confidence-bins",
        "runs/metric:train_loss", "drift/psi", "drift/histogram", "feedback/rating", "feedback/nps",
        "feedback/ctr", "feedback/escalation", "feedback/volume"}) {
    ASSERT_TRUE(charts.count(c)) << c << "\n" << out;
    EXPECT_GT(std::stoi(charts[c]), 0) << c << "\n" << out;
  }
  EXPECT_EQ(Lines(out, "page").size(), 6u) << out;
  EXPECT_EQ(Lines(out, "compare")["runs/metric:train_loss"], "2") << out;  // two runs' curves
  auto topics = Lines(out, "topic_predictions");
  ASSERT_EQ(topics.size(), 1u) << out;
  EXPECT_NE(out.find("csrf_missing 403"), std::string::npos) << out;
  EXPECT_NE(out.find("outside_requests 0"), std::string::npos) << out;
  EXPECT_NE(out.find("csp_violations 0"), std::string::npos) << out;
  EXPECT_NE(out.find("page_errors 0"), std::string::npos) << out;

  // Promote through the button: the rollout ends promoted, by hand, and v2 is champion.
  const std::string promoted = Node("promote");
  EXPECT_NE(promoted.find("clicked promote " + first), std::string::npos) << promoted;
  auto detail = Get("/v1/rollouts/" + first);
  EXPECT_NE(detail.body.find(R"("state":"promoted")"), std::string::npos) << detail.body;
  EXPECT_NE(detail.body.find("promoted by hand: from the console"), std::string::npos)
      << detail.body;
  auto champion = Get("/api/2.0/mlflow/registered-models/alias?name=support-intent&alias=champion");
  EXPECT_NE(champion.body.find(R"("version":"2")"), std::string::npos) << champion.body;

  // Roll a second rollout (v1 back as the challenger) back through the other button.
  auto again = Post("/v1/rollouts", R"({"model":"support-intent","version":1})");
  ASSERT_EQ(again.status, 201) << again.body;
  const std::string second(ParseJson(again.body)->Str("id"));
  const std::string rolled = Node("rollback");
  EXPECT_NE(rolled.find("clicked rollback " + second), std::string::npos) << rolled;
  detail = Get("/v1/rollouts/" + second);
  EXPECT_NE(detail.body.find(R"("state":"rolled_back")"), std::string::npos) << detail.body;
  EXPECT_NE(detail.body.find("rolled back by hand: from the console"), std::string::npos)
      << detail.body;
}

TEST_F(ConsoleTest, TheConsoleRoutesRefuseBadInputAndMissingScopes) {
  ASSERT_EQ(Traffic(6), 6);
  auto bad = [&](const std::string& path, const std::string& field) {
    auto r = Get(path);
    EXPECT_EQ(r.status, 400) << path << " " << r.body;
    EXPECT_NE(r.body.find(field), std::string::npos) << path << " " << r.body;
  };
  bad("/v1/metrics/history?minutes=0", "minutes");
  bad("/v1/metrics/history?minutes=abc", "minutes");
  bad("/v1/feedback/timeline?bucket_ms=0", "bucket_ms");
  bad("/v1/feedback/timeline?since=10&until=100000000000&bucket_ms=1", "bucket_ms");
  bad("/v1/feedback/timeline?since=9000&until=1000", "since");
  bad("/v1/drift?model=support-intent&histograms=maybe", "histograms");
  bad("/v1/drift?model=support-intent&limit=0", "limit");
  bad("/v1/models/support-intent/versions/abc/metrics", "abc");
  EXPECT_EQ(Get("/v1/models/support-intent/versions/9/metrics").status, 404);
  auto metrics = Get("/v1/models/support-intent/versions/1/metrics");
  ASSERT_EQ(metrics.status, 200) << metrics.body;
  EXPECT_NE(metrics.body.find("\"confusion_matrix\""), std::string::npos);
  EXPECT_NE(metrics.body.find("\"reliability\""), std::string::npos);
  auto drift = Get("/v1/drift?model=support-intent&window=6&histograms=true");
  EXPECT_EQ(drift.status, 200) << drift.body;
  // A metrics-scope key reads the overview's data but may not promote.
  EXPECT_EQ(Fetch(port_, "GET", "/v1/metrics/history", "", As(viewer_)).status, 200);
  EXPECT_EQ(Fetch(port_, "GET", "/v1/feedback/timeline", "", As(viewer_)).status, 200);
  auto started = Post("/v1/rollouts", R"({"model":"support-intent","version":2})");
  ASSERT_EQ(started.status, 201) << started.body;
  const std::string id(ParseJson(started.body)->Str("id"));
  EXPECT_EQ(Fetch(port_, "POST", "/v1/rollouts/" + id + "/promote", "{}", As(viewer_)).status, 403);
  EXPECT_EQ(Fetch(port_, "POST", "/v1/rollouts/" + id + "/promote", "{}").status, 401);
  auto promote = Post("/v1/rollouts/" + id + "/promote", R"({"reason":"ship it"})");
  EXPECT_EQ(promote.status, 200) << promote.body;
  EXPECT_NE(promote.body.find("promoted by hand: ship it"), std::string::npos) << promote.body;
  EXPECT_EQ(Post("/v1/rollouts/" + id + "/promote", "{}").status, 409);
  EXPECT_EQ(Post("/v1/rollouts/" + id + "/promote", R"({"why":1})").status, 400);
  EXPECT_EQ(Post("/v1/rollouts/01NOPE/promote", "{}").status, 404);
  // Every console page is served, with the CSP, to anyone (they hold no data).
  for (const char* page : {"/ui/", "/ui/models", "/ui/runs", "/ui/drift", "/ui/feedback",
                           "/ui/rollouts", "/ui/label", "/ui/assets/uPlot.iife.min.js"}) {
    auto r = Fetch(port_, "GET", page);
    EXPECT_EQ(r.status, 200) << page;
    EXPECT_NE(r.Header("content-security-policy").find("script-src 'self'"), std::string::npos)
        << page;
  }
  EXPECT_EQ(Fetch(port_, "GET", "/v2/health/live").status, 200);
}

}  // namespace
}  // namespace closedloop::testing
