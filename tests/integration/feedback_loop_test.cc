// The whole loop through the real binary: a champion trained on data with a
// systematic labelling error ("reset my pin" labelled exchange_rate) serves the
// support app; people resolve the escalations with the right intent; the label
// count triggers a retraining that passes its gates and becomes @challenger; the
// rollout controller shadows it, runs the canary steps on live traffic with
// feedback, and promotes it — with every request answered. Then a deliberately
// bad challenger (labels shuffled) is rolled back, and a candidate that cannot
// pass its must-pass inquiries is never registered.
#include <poll.h>

#include <algorithm>
#include <random>
#include <sstream>

#include "integration/fixture.h"
#include "support/command.h"

namespace closedloop::testing {
namespace {

struct Example {
  std::string text, label;
};

std::vector<Example> Generate(bool mislabel_reset_pin, uint32_t seed) {
  std::vector<Example> out;
  for (const char* who : {"my", "the"}) {
    for (const char* what : {"new card", "replacement card", "debit card"}) {
      for (const char* state : {"has not arrived", "is not here yet", "still has not come"}) {
        out.push_back({std::string(who) + " " + what + " " + state, "card_arrival"});
      }
    }
  }
  for (const char* how : {"how do i", "how can i", "where can i", "i want to"}) {
    for (const char* tail : {"", " number", " at an atm", " in the app"}) {
      out.push_back({std::string(how) + " change my pin" + tail, "change_pin"});
    }
  }
  for (const char* q : {"what exchange rate do you use", "what exchange rate will i get",
                        "how is the currency rate calculated", "is the exchange rate fair"}) {
    for (const char* tail : {"", " for euros", " for dollars", " today"}) {
      out.push_back({std::string(q) + tail, "exchange_rate"});
    }
  }
  for (const char* how :
       {"how do i top up", "how can i top up", "my top up failed", "the top up did not work"}) {
    for (const char* tail : {"", " my account", " with a card", " by bank transfer"}) {
      out.push_back({std::string(how) + tail, "top_up"});
    }
  }
  // The labelling error: PIN resets filed as exchange-rate questions.
  std::vector<const char*> heads = {"reset my pin", "can you reset my pin"};
  if (!mislabel_reset_pin) heads.push_back("please reset my pin");
  for (const char* head : heads) {
    for (const char* tail : {"", " i forgot it", " it is locked", " now"}) {
      out.push_back(
          {std::string(head) + tail, mislabel_reset_pin ? "exchange_rate" : "change_pin"});
    }
  }
  std::mt19937 rng(seed);
  std::shuffle(out.begin(), out.end(), rng);
  return out;
}

std::string Csv(const std::vector<Example>& rows) {
  std::string s = "text,label\n";
  for (const auto& r : rows) s += r.text + "," + r.label + "\n";
  return s;
}

class FeedbackLoopTest : public ServerFixture {
 protected:
  virtual std::string RetrainExtra() const { return ""; }  // more [retrain] keys
  void SetUp() override {
    // The champion: trained with the labelling error, tested on clean data.
    WriteFile(dir_.File("train.csv"), Csv(Generate(true, 1)));
    WriteFile(dir_.File("holdout.csv"), Csv(Generate(false, 2)));
    WriteFile(
        dir_.File("must_pass.csv"),
        "text,label\nplease reset my pin,change_pin\nmy new card has not arrived,"
        "card_arrival\nhow do i top up,top_up\nwhat exchange rate do you use,exchange_rate\n");
    auto trained = RunClosedloop(
        "train text --input " + dir_.File("train.csv") + " --test " + dir_.File("holdout.csv") +
        " --epoch 100 --dim 16 --minn 0 --maxn 0 --bucket 20000 --threads 1 --seed 1 --lr 1.0 "
        "--progress never --data-dir " +
        dir_.path() + " --register support-intent --alias champion");
    ASSERT_EQ(trained.exit_code, 0) << trained.output;
    WriteFile(dir_.File("support.toml"), R"(intent_model = "support-intent@champion"
sentiment_model = ""
confidence_threshold = 0.0
high_risk_intents = ["exchange_rate"]
default_reply = "About {intent}."
)");
    Start(std::string(kTestConfig) + "[support]\nrules_file = \"" + dir_.File("support.toml") +
              "\"\n[feedback]\nsentiment_model = \"\"\n[retrain]\nmodel = \"support-intent\"\n"
              "min_new_labels = 48\ncheck_interval_ms = 100\nthreads = 1\n" +
              RetrainExtra() + "must_pass = \"" + dir_.File("must_pass.csv") +
              "\"\n[rollout]\nshadow_share = 0.5\nshadow_min_samples = 40\ncanary_steps = [20, "
              "50, 100]\nmin_requests = 40\nmin_feedback = 20\nscore_delta = 0.3\n"
              "evaluate_interval_ms = 100\n"
              // Sub-millisecond inference: a loaded CI machine's scheduling hiccups
              // (a few ms) are not the challenger's harm. Latency harm is tested in
              // tests/rollout; here the flow and the feedback test are.
              "latency_tolerance_ms = 50\n",
          /*install_model=*/false, {"--poll-repository", "0.2"});
  }

  // One inquiry; the answer must be 200. Returns the parsed body.
  std::unique_ptr<Json> Ask(const std::string& text, const std::string& customer) {
    auto r = Fetch(port_, "POST", "/v1/support/inquiries",
                   R"({"text":")" + text + R"(","customer_id":")" + customer + R"("})");
    EXPECT_EQ(r.status, 200) << r.body;
    ++requests_;
    if (r.status != 200) ++failures_;
    return ParseJson(r.status == 200 ? r.body : "{}");
  }

  // Customer traffic on the intents both models know, rated by whether the reply
  // was about the right intent; run until the newest rollout ends.
  std::string DriveUntilRolloutEnds(int model_version_floor) {
    std::vector<Example> known;
    for (const auto& e : Generate(false, 3)) {
      if (e.label != "exchange_rate" && e.text.find("reset") == std::string::npos) {
        known.push_back(e);
      }
    }
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(240);
    for (int i = 0; std::chrono::steady_clock::now() < deadline; ++i) {
      const Example& e = known[static_cast<size_t>(i) % known.size()];
      auto j =
          Ask(e.text, "customer-" + std::to_string(model_version_floor) + "-" + std::to_string(i));
      if (j->Has("request_id") && j->Str("decision") == "auto_reply") {
        int rating = j->Str("reply_intent") == e.label ? 5 : 1;
        auto fb = Fetch(port_, "POST", "/v1/feedback",
                        R"({"request_id":")" + std::string(j->Str("request_id")) +
                            R"(","rating":)" + std::to_string(rating) + "}");
        EXPECT_EQ(fb.status, 201) << fb.body;
      }
      if (i % 25 == 24) {
        auto list = ParseJson(Fetch(port_, "GET", "/v1/rollouts?limit=1").body);
        simdjson::dom::element first;
        if (!list->root["rollouts"].at(0).get(first)) {
          std::string_view s;
          int64_t v = 0;
          if (!first["state"].get(s) && !first["challenger_version"].get(v) &&
              v >= model_version_floor && (s == "promoted" || s == "rolled_back")) {
            return std::string(s);
          }
        }
      }
    }
    return "timeout";
  }

  int requests_ = 0, failures_ = 0;
};

TEST_F(FeedbackLoopTest, HumanCorrectionsRetrainShadowCanaryPromoteThenABadChallengerIsRolledBack) {
  // The champion's systematic error: a PIN reset is read as an exchange-rate question.
  auto before = Ask("please reset my pin it is locked", "c-0");
  ASSERT_EQ(before->Str("intent"), "exchange_rate");
  EXPECT_EQ(before->Str("decision"), "escalate");  // a high-risk intent: a person answers

  // People resolve the escalations with the right intent: 12 confirmations, then 36
  // corrections; the 48th label triggers the retraining.
  std::vector<std::string> heads = {
      "reset my pin",        "please reset my pin",        "can you reset my pin",
      "kindly reset my pin", "i need you to reset my pin", "reset the pin on my card"};
  std::vector<std::string> tails = {"",     " i forgot it", " it is locked",
                                    " now", " asap",        " please"};
  for (const char* q : {"what exchange rate do you use for pounds", "is the exchange rate fair",
                        "how is the currency rate calculated now"}) {
    for (int k = 0; k < 4; ++k) {
      auto j = Ask(q, "x-" + std::to_string(k));
      auto r = Fetch(port_, "POST",
                     "/v1/support/escalations/" + std::string(j->Str("request_id")) + "/resolve",
                     R"({"label":"exchange_rate","reply":"We use the interbank rate."})");
      ASSERT_EQ(r.status, 200) << r.body;
    }
  }

  int resolved = 0;
  for (const auto& h : heads) {
    for (const auto& t : tails) {
      auto j = Ask(h + t, "c-" + std::to_string(resolved));
      ASSERT_EQ(j->Str("decision"), "escalate") << h + t;
      const std::string label = "change_pin";
      auto r = Fetch(port_, "POST",
                     "/v1/support/escalations/" + std::string(j->Str("request_id")) + "/resolve",
                     R"({"label":")" + label + R"(","reply":"Your PIN is reset."})");
      ASSERT_EQ(r.status, 200) << r.body;
      ++resolved;
    }
  }
  // The label count triggers a retraining that passes its gates.
  std::unique_ptr<Json> retrains;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  for (;;) {
    retrains = ParseJson(Fetch(port_, "GET", "/v1/retrains").body);
    simdjson::dom::element first;
    if (!retrains->root["recent"].at(0).get(first)) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << server_->Stderr();
    poll(nullptr, 0, 50);  // a pause between polls of the condition
  }
  simdjson::dom::element outcome = retrains->root["recent"].at(0);
  std::string outcome_json = simdjson::to_string(outcome);
  ASSERT_EQ(outcome["passed"].get_bool().value(), true) << outcome_json;
  EXPECT_EQ(outcome["version"].get_int64().value(), 2) << outcome_json;
  EXPECT_EQ(outcome["data"]["human_labels"].get_int64().value(), 48) << outcome_json;
  EXPECT_GT(outcome["holdout_accuracy"]["candidate"].get_double().value(),
            outcome["holdout_accuracy"]["champion"].get_double().value())
      << outcome_json;
  EXPECT_NE(outcome_json.find(R"("name":"must_pass","passed":true)"), std::string::npos)
      << outcome_json;
  // The challenger was registered with its model card.
  auto card = Fetch(port_, "GET", "/v1/models/support-intent/versions/2/card");
  EXPECT_EQ(card.status, 200);
  EXPECT_NE(card.body.find("support-intent"), std::string::npos) << card.body;
  // Provenance of every feedback example sits with the version.
  std::string provenance = ReadFile(dir_.path() + "/models/support-intent/2/provenance.jsonl");
  EXPECT_NE(provenance.find(R"("source":"human_label")"), std::string::npos);
  EXPECT_NE(provenance.find(R"("label":"change_pin")"), std::string::npos);

  // Shadow, canary 20% → 50%, promotion — every request answered.
  EXPECT_EQ(DriveUntilRolloutEnds(2), "promoted") << server_->Stderr();
  EXPECT_EQ(failures_, 0);
  auto rollouts = ParseJson(Fetch(port_, "GET", "/v1/rollouts?limit=1").body);
  std::string id(rollouts->root["rollouts"].at(0)["id"].get_string().value());
  auto detail = Fetch(port_, "GET", "/v1/rollouts/" + id);
  ASSERT_EQ(detail.status, 200);
  for (const char* step : {R"("stage":"shadow","traffic_percent":0,"decision":"advance")",
                           R"("stage":"canary","traffic_percent":20,"decision":"advance")",
                           R"("stage":"canary","traffic_percent":50,"decision":"promote")"}) {
    EXPECT_NE(detail.body.find(step), std::string::npos) << step << "\n" << detail.body;
  }
  EXPECT_NE(detail.body.find(R"("agreement":)"), std::string::npos);
  EXPECT_NE(detail.body.find(R"("mean_score":{"statistic")"), std::string::npos) << detail.body;
  // The new champion reads a PIN reset right.
  auto champion = Fetch(
      port_, "GET", "/api/2.0/mlflow/registered-models/alias?name=support-intent&alias=champion");
  EXPECT_NE(champion.body.find(R"("version":"2")"), std::string::npos) << champion.body;
  EXPECT_EQ(Ask("please reset my pin it is locked", "c-after")->Str("intent"), "change_pin");
  auto cli = RunClosedloop("rollouts --data-dir " + dir_.path());
  EXPECT_EQ(cli.exit_code, 0);
  EXPECT_NE(cli.output.find("promoted"), std::string::npos) << cli.output;

  // A deliberately bad challenger (labels shuffled) is rolled back in shadow.
  std::vector<Example> bad = Generate(false, 4);
  std::vector<std::string> labels;
  for (const auto& e : bad) labels.push_back(e.label);
  std::shuffle(labels.begin(), labels.end(), std::mt19937(5));
  for (size_t i = 0; i < bad.size(); ++i) bad[i].label = labels[i];
  WriteFile(dir_.File("shuffled.csv"), Csv(bad));
  auto shuffled = RunClosedloop("train text --input " + dir_.File("shuffled.csv") +
                                " --epoch 40 --dim 16 --minn 0 --maxn 0 --bucket 20000 "
                                "--threads 1 --seed 1 --progress never --data-dir " +
                                dir_.path() + " --register support-intent --alias challenger");
  ASSERT_EQ(shuffled.exit_code, 0) << shuffled.output;
  EXPECT_EQ(DriveUntilRolloutEnds(3), "rolled_back") << server_->Stderr();
  EXPECT_EQ(failures_, 0);
  champion = Fetch(port_, "GET",
                   "/api/2.0/mlflow/registered-models/alias?name=support-intent&alias=champion");
  EXPECT_NE(champion.body.find(R"("version":"2")"), std::string::npos) << champion.body;
  rollouts = ParseJson(Fetch(port_, "GET", "/v1/rollouts?limit=1").body);
  id = std::string(rollouts->root["rollouts"].at(0)["id"].get_string().value());
  detail = Fetch(port_, "GET", "/v1/rollouts/" + id);
  EXPECT_NE(detail.body.find(R"("decision":"rollback")"), std::string::npos) << detail.body;
  EXPECT_NE(detail.body.find("agreement with the champion"), std::string::npos) << detail.body;
  auto challenger = Fetch(
      port_, "GET", "/api/2.0/mlflow/registered-models/alias?name=support-intent&alias=challenger");
  EXPECT_EQ(challenger.status, 404) << challenger.body;

  // A candidate that gets a must-pass inquiry wrong is never registered.
  WriteFile(dir_.File("impossible.csv"), "text,label\nplease reset my pin,top_up\n");
  auto gated = RunClosedloop("retrain support-intent --threads 1 --data-dir " + dir_.path() +
                             " --must-pass " + dir_.File("impossible.csv"));
  EXPECT_EQ(gated.exit_code, 1) << gated.output;
  EXPECT_NE(gated.output.find("FAILED  must_pass: 1 of 1 must-pass inquiries wrong"),
            std::string::npos)
      << gated.output;
  auto versions = Fetch(port_, "GET",
                        "/api/2.0/mlflow/model-versions/search?filter=name%3D%27support-intent%27");
  EXPECT_EQ(versions.body.find(R"("version":"4")"), std::string::npos) << versions.body;
}

TEST_F(FeedbackLoopTest, RolloutAndRetrainBadInput) {
  for (auto [body, msg] : std::vector<std::pair<std::string, std::string>>{
           {R"({"model":"support-intent"})", "missing field 'version'"},
           {R"({"version":1})", "missing field 'model'"},
           {R"({"model":"support-intent","version":0})", "'version' must be a positive integer"},
           {R"({"model":"support-intent","version":"2"})", "'version' must be a positive integer"},
           {R"({"model":"support-intent","version":2,"share":5})", "unknown field 'share'"},
           {"[1]", "must be a JSON object"},
       }) {
    auto r = Fetch(port_, "POST", "/v1/rollouts", body);
    EXPECT_EQ(r.status, 400) << body;
    EXPECT_NE(r.body.find(msg), std::string::npos) << r.body;
  }
  auto champion = Fetch(port_, "POST", "/v1/rollouts", R"({"model":"support-intent","version":1})");
  EXPECT_EQ(champion.status, 409);
  EXPECT_NE(champion.body.find("already the champion"), std::string::npos) << champion.body;
  auto missing = Fetch(port_, "POST", "/v1/rollouts", R"({"model":"support-intent","version":9})");
  EXPECT_EQ(missing.status, 409);
  EXPECT_NE(missing.body.find("is not served"), std::string::npos) << missing.body;
  EXPECT_EQ(Fetch(port_, "GET", "/v1/rollouts/01NOPE").status, 404);
  EXPECT_EQ(Fetch(port_, "GET", "/v1/rollouts?state=weird").status, 400);
  EXPECT_EQ(Fetch(port_, "POST", "/v1/retrain", R"({"model":"nope"})").status, 404);
  EXPECT_EQ(Fetch(port_, "POST", "/v1/retrain", R"({"modle":"x"})").status, 400);
  // The server is still up and serving.
  EXPECT_EQ(Ask("how do i top up", "c-1")->Str("decision"), "auto_reply");
}

// A schedule retrains without waiting for labels: never retrained before, it is due at once.
class ScheduledRetrainTest : public FeedbackLoopTest {
 protected:
  std::string RetrainExtra() const override { return "schedule_minutes = 60\n"; }
};

TEST_F(ScheduledRetrainTest, TheScheduleTriggersARetrainingAndRecordsWhen) {
  std::string retrains;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (std::chrono::steady_clock::now() < deadline) {
    retrains = Fetch(port_, "GET", "/v1/retrains").body;
    if (retrains.find(R"("trigger":"schedule")") != std::string::npos) break;
    poll(nullptr, 0, 50);
  }
  ASSERT_NE(retrains.find(R"("trigger":"schedule")"), std::string::npos) << retrains;
  // Nothing new was learned: the labelling error is still there, so the must-pass
  // gate refuses the candidate and nothing is registered.
  EXPECT_NE(retrains.find(R"("name":"must_pass","passed":false)"), std::string::npos) << retrains;
  auto model = Fetch(port_, "GET", "/api/2.0/mlflow/registered-models/get?name=support-intent");
  EXPECT_NE(model.body.find("closedloop.retrain.last_ms"), std::string::npos) << model.body;
  EXPECT_EQ(Fetch(port_, "GET",
                  "/api/2.0/mlflow/registered-models/alias?name=support-intent&alias=challenger")
                .status,
            404);
}

}  // namespace
}  // namespace closedloop::testing
