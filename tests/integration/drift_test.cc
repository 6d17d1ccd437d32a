// Live drift through the real binary: the test model carries the reference profile
// its training wrote; windows of the prediction log are compared with it at
// GET /v1/drift, and a CRITICAL window asks the retrainer for a new candidate.
#include <poll.h>

#include <cmath>
#include <fstream>
#include <iterator>
#include <regex>

#include "integration/fixture.h"
#include "support/command.h"

namespace closedloop::testing {
namespace {

class DriftTest : public ServerFixture {
 protected:
  void StartMonitored() {
    Start(std::string(kTestConfig) +
          "[monitor]\ninterval_ms = 0\nwindow_predictions = 1000\nmin_window = 500\n"
          "min_labels = 30\nmmd_permutations = 50\n");
  }
  std::unique_ptr<Json> Drift(const std::string& query) {
    auto r = Fetch(port_, "GET", "/v1/drift" + query);
    EXPECT_EQ(r.status, 200) << r.body;
    body_ = r.body;
    return ParseJson(r.body);
  }
  std::string Signal(const Json& j, const char* name, const char* field) {
    simdjson::dom::array signals;
    if (j.root["reports"].at(0)["signals"].get(signals)) return "";
    for (simdjson::dom::element s : signals) {
      if (std::string_view(s["name"].get_string().value()) == name) {
        simdjson::dom::element v = s[field];
        if (v.is_string()) return std::string(v.get_string().value());
        if (v.is_bool()) return v.get_bool().value() ? "true" : "false";
        return simdjson::to_string(v);
      }
    }
    return "";
  }
  // The texts of the shipped test split, escaped for JSON. test.csv is sorted by
  // intent: evenly spaced rows are a sample of all of them.
  static std::vector<std::string> TestTexts() {
    std::ifstream test_csv(CLOSEDLOOP_SOURCE_DIR_FOR_TESTS "/examples/support/data/test.csv");
    std::string line;
    std::getline(test_csv, line);  // header
    std::vector<std::string> texts;
    while (std::getline(test_csv, line)) {
      std::string text;  // the first CSV field, quotes undone, then escaped for JSON
      if (!line.empty() && line[0] == '"') {
        for (size_t end = 1; end < line.size(); ++end) {
          if (line[end] == '"' && end + 1 < line.size() && line[end + 1] == '"') {
            text += '"';
            ++end;
          } else if (line[end] == '"') {
            break;
          } else {
            text += line[end];
          }
        }
      } else {
        text = line.substr(0, line.rfind(','));
      }
      std::string json;
      for (char c : text)
        json += (c == '"' || c == '\\') ? std::string("\\") + c : std::string(1, c);
      if (!json.empty()) texts.push_back(json);
    }
    return texts;
  }
  // GET /v1/retrains once it lists a drift-triggered retraining (or after 30 s).
  std::string WaitForDriftRetrain() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    std::string retrains;
    while (std::chrono::steady_clock::now() < deadline) {
      retrains = Fetch(port_, "GET", "/v1/retrains").body;
      if (retrains.find(R"("trigger":"drift:)") != std::string::npos) break;
      poll(nullptr, 0, 50);
    }
    return retrains;
  }
  std::string body_;
};

TEST_F(DriftTest, InDistributionTrafficIsCalmAShiftedWindowIsCriticalAndAsksForARetraining) {
  StartMonitored();
  // The test model's version directory holds the profile its training wrote.
  std::ifstream profile(dir_.path() + "/models/support-intent/1/reference_profile.json");
  ASSERT_TRUE(profile.good());

  auto empty = Drift("?model=support-intent");
  EXPECT_EQ(std::string(empty->root["reports"].at(0)["state"].get_string().value()),
            "not_enough_data")
      << body_;

  // In-distribution: inquiries like the training data's.
  std::vector<std::string> texts = TestTexts();
  ASSERT_GT(texts.size(), 3000u);
  for (size_t k = 0; k < 1000; ++k) {
    const std::string& json = texts[k * texts.size() / 1000];
    auto r = Predict(R"({"model":"support-intent","text":")" + json + R"("})");
    ASSERT_EQ(r.status, 200) << json << " " << r.body;
  }
  auto calm = Drift("?model=support-intent&window=1000");
  EXPECT_EQ(std::string(calm->root["reports"].at(0)["state"].get_string().value()), "ok") << body_;
  EXPECT_EQ(calm->root["reports"].at(0)["window"]["predictions"].get_int64().value(), 1000);
  EXPECT_NE(std::string(calm->root["reports"].at(0)["severity"].get_string().value()), "CRITICAL")
      << body_;
  // Same population, different samples: nothing CRITICAL (the KS tests may still see
  // the test split's slightly different lengths; PSI bands are what escalate).
  EXPECT_EQ(Signal(*calm, "oov_rate", "drifted"), "false") << body_;
  EXPECT_NE(Signal(*calm, "prediction", "severity"), "CRITICAL") << body_;
  EXPECT_NE(Signal(*calm, "text_length", "severity"), "CRITICAL") << body_;
  EXPECT_EQ(Signal(*calm, "label", "test"), "none");  // no human labels yet
  EXPECT_EQ(calm->root["reports"].at(0)["retrain_requested"].get_bool().value(), false);

  // A shifted window: long, repetitive complaints the model never saw.
  std::string shifted;
  for (int k = 0; k < 12; ++k) shifted += "zorbly flimflam quaxle charged again ";
  for (int i = 0; i < 1000; ++i) {
    ASSERT_EQ(
        Predict(R"({"model":"support-intent","text":")" + shifted + std::to_string(i) + R"("})")
            .status,
        200);
  }
  auto drifted = Drift("?model=support-intent&window=1000");
  auto report = drifted->root["reports"].at(0);
  EXPECT_EQ(std::string(report["severity"].get_string().value()), "CRITICAL") << body_;
  for (const char* s : {"prediction", "text_length", "oov_rate", "confidence"}) {
    EXPECT_EQ(Signal(*drifted, s, "drifted"), "true") << s << " " << body_;
  }
  EXPECT_EQ(Signal(*drifted, "text_length", "severity"), "CRITICAL") << body_;
  EXPECT_EQ(Signal(*drifted, "embedding", "test"), "mmd") << body_;
  EXPECT_EQ(report["retrain_requested"].get_bool().value(), true) << body_;
  // The retrainer got the event (this test model has no @champion to retrain from,
  // so the outcome is that error — the hook is what is under test).
  const std::string retrains = WaitForDriftRetrain();
  EXPECT_NE(retrains.find(R"("trigger":"drift: prediction)"), std::string::npos) << retrains;
  // The same window does not ask again.
  auto again = Drift("?model=support-intent&window=1000");
  EXPECT_EQ(again->root["reports"].at(0)["retrain_requested"].get_bool().value(), false);
  // Kept reports, newest first.
  auto kept = Drift("?model=support-intent");
  simdjson::dom::array kept_reports;
  ASSERT_FALSE(kept->root["reports"].get(kept_reports));
  EXPECT_GE(kept_reports.size(), 3u);
}

// People's labels say the text model is now right one time in ten (the small test
// model's reference accuracy is 0.35): the accuracy signal is CRITICAL and significant, and
// the retrainer is asked for a new candidate with the accuracy drop as reason.
TEST_F(DriftTest, LabelledAccuracyDropOfATextModelAsksForARetraining) {
  StartMonitored();
  std::vector<std::string> texts = TestTexts();
  ASSERT_GT(texts.size(), 3000u);
  Connection c(port_);
  int labelled = 0;
  for (size_t k = 0; k < 1000; ++k) {
    auto r = c.Request(
        "POST", "/v1/predict",
        R"({"model":"support-intent","text":")" + texts[k * texts.size() / 1000] + R"("})");
    ASSERT_EQ(r.status, 200) << r.body;
    if (k % 10 != 0) continue;  // 100 of them get a person's label
    auto j = ParseJson(r.body);
    const std::string id(std::string_view(j->root["request_id"].get_string()));
    const std::string predicted(std::string_view(j->root["label"].get_string()));
    const std::string second(std::string_view(j->root["top_k"].at(1)["label"].get_string()));
    const std::string truth = labelled++ % 10 == 0 ? predicted : second;
    auto f = c.Request("POST", "/v1/feedback",
                       R"({"request_id":")" + id + R"(","label":")" + truth + R"("})");
    ASSERT_LT(f.status, 300) << f.body;
  }
  auto drifted = Drift("?model=support-intent&window=1000");
  auto report = drifted->root["reports"].at(0);
  EXPECT_EQ(report["window"]["labels"].get_int64().value(), 100) << body_;
  EXPECT_EQ(Signal(*drifted, "accuracy", "test"), "binomial_z") << body_;
  EXPECT_NEAR(std::stod(Signal(*drifted, "accuracy", "statistic")), 0.1, 1e-9) << body_;
  EXPECT_EQ(Signal(*drifted, "accuracy", "severity"), "CRITICAL") << body_;
  EXPECT_EQ(Signal(*drifted, "accuracy", "drifted"), "true") << body_;
  EXPECT_EQ(std::string(report["severity"].get_string().value()), "CRITICAL") << body_;
  EXPECT_TRUE(report["retrain_requested"].get_bool().value()) << body_;
  const std::string retrains = WaitForDriftRetrain();
  std::smatch m;
  ASSERT_TRUE(std::regex_search(retrains, m, std::regex(R"("trigger":"drift:[^"]*")"))) << retrains;
  EXPECT_NE(m.str().find("accuracy"), std::string::npos) << retrains;
}

// A tabular model: training writes per-feature profiles; a window whose x1 moved
// and whose colours are all blue has those features drifted, half the features
// drifted is dataset drift (CRITICAL), which is an alert but not a retraining
// (retraining from feedback is for text models).
TEST_F(DriftTest, TabularFeaturesAndDatasetDrift) {
  uint64_t seed = 12345;
  auto uniform = [&] {
    seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return static_cast<double>(seed >> 11) / 9007199254740992.0;
  };
  auto normal = [&] {  // Box-Muller
    return std::sqrt(-2 * std::log(1 - uniform())) * std::cos(6.283185307179586 * uniform());
  };
  const char* colours[] = {"red", "green", "blue"};
  std::string csv = "x1,x2,colour,label\n";
  for (int i = 0; i < 2000; ++i) {
    double x1 = normal(), x2 = 10 * uniform();
    csv += std::to_string(x1) + "," + std::to_string(x2) + "," + colours[i % 3] + "," +
           (x1 + x2 / 5 > 1 ? "yes" : "no") + "\n";
  }
  WriteFile(dir_.File("risk.csv"), csv);
  auto trained = RunClosedloop("train tabular --input " + dir_.File("risk.csv") +
                               " --label-col label --output " + dir_.File("models/risk/1") +
                               " --max-rounds 30 --threads 1 --no-tracking");
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  std::ifstream profile(dir_.File("models/risk/1/reference_profile.json"));
  std::string profile_text((std::istreambuf_iterator<char>(profile)), {});
  EXPECT_NE(profile_text.find(R"("name":"colour","categorical":true)"), std::string::npos);
  EXPECT_NE(profile_text.find(R"("name":"x1","categorical":false)"), std::string::npos);
  StartMonitored();

  Connection c(port_);
  auto send = [&](double shift, bool all_blue) {
    for (int i = 0; i < 600; ++i) {
      std::string body = R"({"model":"risk","features":{"x1":)" + std::to_string(normal() + shift) +
                         R"(,"x2":)" + std::to_string(10 * uniform()) + R"(,"colour":")" +
                         (all_blue ? "blue" : colours[i % 3]) + R"("}})";
      ASSERT_EQ(c.Request("POST", "/v1/predict", body).status, 200) << body;
    }
  };
  send(0, false);
  auto calm = Drift("?model=risk&window=600");
  EXPECT_EQ(std::string(calm->root["reports"].at(0)["state"].get_string().value()), "ok") << body_;
  EXPECT_EQ(Signal(*calm, "feature:x1", "severity"), "OK") << body_;
  EXPECT_EQ(Signal(*calm, "feature:colour", "drifted"), "false") << body_;
  EXPECT_EQ(Signal(*calm, "dataset", "drifted"), "false") << body_;

  // A time window: every prediction of the last hour (the 600 so far).
  auto hour = Drift("?model=risk&minutes=60");
  EXPECT_EQ(hour->root["reports"].at(0)["window"]["predictions"].get_int64().value(), 600) << body_;
  EXPECT_EQ(hour->root["reports"].at(0)["window"]["minutes"].get_int64().value(), 60) << body_;

  send(3, true);
  auto drifted = Drift("?model=risk&window=600");
  EXPECT_EQ(Signal(*drifted, "feature:x1", "test"), "ks") << body_;
  EXPECT_EQ(Signal(*drifted, "feature:x1", "severity"), "CRITICAL") << body_;
  EXPECT_EQ(Signal(*drifted, "feature:x1", "drifted"), "true") << body_;
  EXPECT_EQ(Signal(*drifted, "feature:colour", "test"), "chi_square") << body_;
  EXPECT_EQ(Signal(*drifted, "feature:colour", "drifted"), "true") << body_;
  EXPECT_EQ(Signal(*drifted, "feature:x2", "drifted"), "false") << body_;
  EXPECT_EQ(Signal(*drifted, "dataset", "drifted"), "true") << body_;
  EXPECT_NE(Signal(*drifted, "dataset", "note").find("2 of 3 features drifted"), std::string::npos)
      << body_;
  EXPECT_EQ(std::string(drifted->root["reports"].at(0)["severity"].get_string().value()),
            "CRITICAL");
  EXPECT_FALSE(drifted->root["reports"].at(0)["retrain_requested"].get_bool().value());
  auto alerts = Fetch(port_, "GET", "/v1/alerts?state=firing");
  EXPECT_NE(alerts.body.find(R"("key":"drift:risk")"), std::string::npos) << alerts.body;
  EXPECT_NE(alerts.body.find("DriftCritical"), std::string::npos) << alerts.body;
}

TEST_F(DriftTest, BadParameters) {
  StartMonitored();
  EXPECT_EQ(Fetch(port_, "GET", "/v1/drift?model=support-intent&window=1").status, 400);
  EXPECT_EQ(Fetch(port_, "GET", "/v1/drift?model=support-intent&window=abc").status, 400);
  EXPECT_EQ(Fetch(port_, "GET", "/v1/drift?window=100").status, 400);
  EXPECT_EQ(Fetch(port_, "GET", "/v1/drift?model=support-intent&minutes=0").status, 400);
  EXPECT_EQ(Fetch(port_, "GET", "/v1/drift?minutes=5").status, 400);
  EXPECT_EQ(Fetch(port_, "GET", "/v1/drift?model=nope").status, 404);
  EXPECT_EQ(Predict(R"({"model":"support-intent","text":"my card"})").status, 200);
}

}  // namespace
}  // namespace closedloop::testing
