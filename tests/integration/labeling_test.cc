// Active learning and labeling through the real binary: selection from logged
// traffic within budgets, annotations from several people with overlap, gold items
// and routing, aggregation and agreement in the report (API and CLI), the
// escalation queue's answers in the same store, authentication (scope label,
// cookie sign-in with CSRF), durability across SIGKILL, and the labeling page in
// headless Chromium.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <map>
#include <set>
#include <sstream>

#include "integration/fixture.h"
#include "support/banking77.h"
#include "support/command.h"

namespace closedloop::testing {
namespace {

const std::string kData = std::string(CLOSEDLOOP_SOURCE_DIR_FOR_TESTS) + "/examples/support/data";

std::string LabelingConfig(const std::string& extra = "") {
  return std::string(kTestConfig) +
         "[prediction_log]\nstore_inputs = true\n[labeling]\nbatch = 20\nbudget_per_hour = 30\n"
         "overlap = 2\nmax_overlap = 3\ngold_share = 0.3\nhard_min_gold = 3\n"
         "hard_min_accuracy = 0.8\n" +
         extra;
}

class LabelingTest : public ServerFixture {
 protected:
  // Sends `n` Banking77 test inquiries; returns text → true label.
  std::map<std::string, std::string> Traffic(
      size_t n, const std::vector<std::pair<std::string, std::string>>& headers = {
                    {"Content-Type", "application/json"}}) {
    std::map<std::string, std::string> truth;
    auto rows = ReadTextLabelRows(kData + "/test.csv");
    for (size_t i = 0; i < rows.size() && truth.size() < n; i += 7) {
      auto r =
          Fetch(port_, "POST", "/v1/predict",
                R"({"model":"support-intent","text":)" + JsonString(rows[i].text) + "}", headers);
      EXPECT_EQ(r.status, 200) << r.body;
      truth[rows[i].text] = rows[i].label;
    }
    return truth;
  }
  HttpResult Annotate(const std::string& task, const std::string& body,
                      const std::vector<std::pair<std::string, std::string>>& headers = {
                          {"Content-Type", "application/json"}}) {
    return Fetch(port_, "POST", "/v1/labeling/tasks/" + task + "/annotations", body, headers);
  }
  std::string As(const std::string& who, const std::string& label) {
    return R"({"annotator":")" + who + R"(","label":")" + label + R"("})";
  }
};

struct Task {
  std::string id, text, strategy;
  double score = 0, propensity = 0;
  bool hard = false;
};

std::vector<Task> Tasks(const std::string& body) {
  auto j = ParseJson(body);
  std::vector<Task> out;
  simdjson::dom::array tasks;
  EXPECT_FALSE(j->root["tasks"].get_array().get(tasks)) << body;
  for (auto t : tasks) {
    Task x;
    x.id = std::string(t["task_id"].get_string().value());
    x.text = std::string(t["text"].get_string().value());
    std::string_view s;
    if (!t["strategy"].get_string().get(s)) x.strategy = std::string(s);
    double d = 0;
    if (!t["score"].get_double().get(d)) x.score = d;
    if (!t["propensity"].get_double().get(d)) x.propensity = d;
    bool b = false;
    if (!t["hard"].get_bool().get(b)) x.hard = b;
    out.push_back(std::move(x));
  }
  return out;
}

TEST_F(LabelingTest, SelectsWithinBudgetAnnotatesAggregatesAndReports) {
  Start(LabelingConfig());
  auto truth = Traffic(200);
  ASSERT_GE(truth.size(), 150u);

  // Selection: margin with diversity and a 20% random share, then the budget (30 / hour).
  auto sel =
      Fetch(port_, "POST", "/v1/labeling/select",
            R"({"model":"support-intent","strategy":"margin","batch":20,"random_share":0.2})");
  ASSERT_EQ(sel.status, 200) << sel.body;
  auto picked = Tasks(sel.body);
  ASSERT_EQ(picked.size(), 20u) << sel.body;
  auto summary = ParseJson(sel.body);
  const double pool = summary->Num("pool");
  EXPECT_GE(pool, 150);
  int random = 0;
  double random_score = 0, chosen_score = 0;
  for (const auto& t : picked) {
    if (t.strategy == "random") {
      ++random;
      random_score += t.score;
      EXPECT_NEAR(t.propensity, 4 / pool, 1e-9);
    } else {
      EXPECT_EQ(t.strategy, "margin+diversity");
      EXPECT_EQ(t.propensity, 1);
      chosen_score += t.score;
    }
  }
  EXPECT_EQ(random, 4);
  EXPECT_GT(chosen_score / 16, random_score / 4);  // the chosen ones are the unsure ones
  auto more = Fetch(port_, "POST", "/v1/labeling/select", R"({"model":"support-intent"})");
  ASSERT_EQ(more.status, 200);
  EXPECT_EQ(Tasks(more.body).size(), 10u) << more.body;  // the hour's budget: 30
  EXPECT_NE(more.body.find("budget"), std::string::npos);
  auto none = Fetch(port_, "POST", "/v1/labeling/select", R"({"model":"support-intent"})");
  EXPECT_EQ(Tasks(none.body).size(), 0u) << none.body;
  // qbc without a committee, unknown strategy, unknown model: clear errors.
  auto qbc =
      Fetch(port_, "POST", "/v1/labeling/select", R"({"model":"support-intent","strategy":"qbc"})");
  EXPECT_EQ(qbc.status, 200) << qbc.body;  // budget exhausted: nothing to score
  auto bad = Fetch(port_, "POST", "/v1/labeling/select",
                   R"({"model":"support-intent","strategy":"bald"})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("strategy"), std::string::npos);
  EXPECT_EQ(Fetch(port_, "POST", "/v1/labeling/select", R"({"model":"nope"})").status, 404);

  // Gold items, mixed into queues and never shown as gold.
  auto gold = Fetch(
      port_, "POST", "/v1/labeling/gold",
      R"({"model":"support-intent","items":[{"text":"my card has not arrived yet","label":"card_arrival"},{"text":"how do I change my PIN","label":"change_pin"},{"text":"I want to close my account","label":"terminate_account"}]})");
  ASSERT_EQ(gold.status, 201) << gold.body;
  auto bad_gold = Fetch(port_, "POST", "/v1/labeling/gold",
                        R"({"model":"support-intent","items":[{"text":"x","label":"no_such"}]})");
  EXPECT_EQ(bad_gold.status, 400);
  EXPECT_NE(bad_gold.body.find("items[0].label"), std::string::npos) << bad_gold.body;
  std::map<std::string, std::string> gold_answer = {
      {"my card has not arrived yet", "card_arrival"},
      {"how do I change my PIN", "change_pin"},
      {"I want to close my account", "terminate_account"}};

  // Three annotators: alice and bob answer every task; bob is wrong on every
  // fourth; carol answers what they disagree on (overlap 3 for those).
  std::map<std::string, std::string> text_of;
  for (const std::string who : {"alice", "bob"}) {
    for (int page = 0; page < 10; ++page) {
      auto q =
          Fetch(port_, "GET", "/v1/labeling/queue?model=support-intent&limit=10&annotator=" + who);
      ASSERT_EQ(q.status, 200) << q.body;
      EXPECT_EQ(q.body.find("gold_label"), std::string::npos);
      EXPECT_EQ(q.body.find("strategy"), std::string::npos);
      auto tasks = Tasks(q.body);
      if (tasks.empty()) break;
      int n = 0;
      for (const auto& t : tasks) {
        text_of[t.id] = t.text;
        std::string label = gold_answer.count(t.text) ? gold_answer[t.text] : truth[t.text];
        if (who == "bob" && ++n % 4 == 0)
          label = label == "card_arrival" ? "change_pin" : "card_arrival";
        auto r = Annotate(t.id, As(who, label));
        ASSERT_EQ(r.status, 201) << r.body;
      }
    }
  }
  // carol first answers the gold items of her page (so her record qualifies her for
  // hard tasks), then gets the tasks alice and bob disagreed on.
  auto first =
      Fetch(port_, "GET", "/v1/labeling/queue?model=support-intent&limit=10&annotator=carol");
  for (const auto& t : Tasks(first.body)) {
    if (gold_answer.count(t.text)) {
      ASSERT_EQ(Annotate(t.id, As("carol", gold_answer[t.text])).status, 201);
    }
  }
  auto hard =
      Fetch(port_, "GET", "/v1/labeling/queue?model=support-intent&limit=50&annotator=carol");
  EXPECT_NE(hard.body.find(R"("may_take_hard":true)"), std::string::npos) << hard.body;
  auto hard_tasks = Tasks(hard.body);
  ASSERT_GE(hard_tasks.size(), 3u) << hard.body;
  for (const auto& t : hard_tasks) {
    auto r = Annotate(t.id, As("carol", truth[t.text]));
    ASSERT_EQ(r.status, 201) << r.body;
    EXPECT_NE(r.body.find(R"("status":"done")"), std::string::npos) << r.body;
  }

  // Bad input: unknown task, unknown label, twice, malformed, wrong answer kinds.
  const std::string any = picked[0].id;
  auto unknown = Annotate("01NOSUCHTASK", As("alice", "card_arrival"));
  EXPECT_EQ(unknown.status, 404) << unknown.body;
  auto wrong = Annotate(any, As("dave", "no_such_label"));
  EXPECT_EQ(wrong.status, 400);
  EXPECT_NE(wrong.body.find("field 'label'"), std::string::npos) << wrong.body;
  auto twice = Annotate(any, As("alice", "card_arrival"));
  EXPECT_EQ(twice.status, 409) << twice.body;
  EXPECT_NE(twice.body.find("already answered"), std::string::npos);
  EXPECT_EQ(Annotate(any, "{not json").status, 400);
  auto kind = Annotate(any, R"({"annotator":"dave","answer":"maybe"})");
  EXPECT_EQ(kind.status, 400);
  EXPECT_NE(kind.body.find("answer"), std::string::npos);
  EXPECT_EQ(Annotate(any, R"({"annotator":"dave","answer":"skip","label":"change_pin"})").status,
            400);
  // skip / none / oos are answers; skip is not counted.
  EXPECT_EQ(Annotate(any, R"({"annotator":"dave","answer":"skip"})").status, 201);
  EXPECT_EQ(Annotate(picked[1].id, R"({"annotator":"dave","answer":"none"})").status, 201);
  EXPECT_EQ(Annotate(picked[2].id, R"({"annotator":"dave","answer":"oos"})").status, 201);

  auto one = Fetch(port_, "GET", "/v1/labeling/tasks/" + picked[3].id);
  ASSERT_EQ(one.status, 200) << one.body;
  EXPECT_NE(one.body.find(R"("annotator":"alice")"), std::string::npos) << one.body;
  EXPECT_NE(one.body.find(R"("annotator":"bob")"), std::string::npos) << one.body;
  EXPECT_NE(one.body.find(R"("status":"done")"), std::string::npos) << one.body;

  // Routing: erin gets all gold right, frank gets one wrong; then hard tasks go to erin only.
  for (const std::string who : {"erin", "frank"}) {
    auto q =
        Fetch(port_, "GET", "/v1/labeling/queue?model=support-intent&limit=10&annotator=" + who);
    int wrong_gold = 0;
    for (const auto& t : Tasks(q.body)) {
      if (!gold_answer.count(t.text)) continue;
      std::string label = gold_answer[t.text];
      if (who == "frank" && wrong_gold++ == 0)
        label = label == "change_pin" ? "card_arrival" : "change_pin";
      ASSERT_EQ(Annotate(t.id, As(who, label)).status, 201);
    }
  }
  auto report = Fetch(port_, "GET", "/v1/labeling/report?model=support-intent");
  ASSERT_EQ(report.status, 200) << report.body;
  auto rj = ParseJson(report.body);
  simdjson::dom::array annotators;
  ASSERT_FALSE(rj->root["annotators"].get_array().get(annotators));
  std::map<std::string, simdjson::dom::element> by_name;
  for (auto a : annotators) by_name[std::string(a["annotator"].get_string().value())] = a;
  ASSERT_TRUE(by_name.count("alice") && by_name.count("bob") && by_name.count("carol"))
      << report.body;
  double alice_gold = -1, frank_gold = -1;
  EXPECT_FALSE(by_name["alice"]["gold_accuracy"].get_double().get(alice_gold)) << report.body;
  ASSERT_TRUE(by_name.count("frank")) << report.body;
  EXPECT_FALSE(by_name["frank"]["gold_accuracy"].get_double().get(frank_gold)) << report.body;
  EXPECT_NEAR(alice_gold, 1.0, 1e-9) << report.body;
  EXPECT_NEAR(frank_gold, 2.0 / 3, 1e-9) << report.body;
  double bob_ds = 0, alice_ds = 0, kappa = 0;
  ASSERT_FALSE(by_name["bob"]["ds_accuracy"].get_double().get(bob_ds));
  ASSERT_FALSE(by_name["alice"]["ds_accuracy"].get_double().get(alice_ds));
  EXPECT_GT(alice_ds, bob_ds) << report.body;
  ASSERT_FALSE(rj->root["fleiss"]["kappa"].get_double().get(kappa)) << report.body;
  EXPECT_GT(kappa, 0.5);
  EXPECT_LT(kappa, 1.0);
  EXPECT_NE(report.body.find(R"("pairs":[{)"), std::string::npos) << report.body;
  EXPECT_EQ(rj->root["queue"]["gold_items"].get_int64().value(), 3);
  EXPECT_EQ(rj->root["queue"]["by_strategy"]["random"].get_int64().value(), 5) << report.body;

  // erin's record qualifies her for hard tasks; frank's does not.
  auto sel2 = Fetch(port_, "POST", "/v1/labeling/select",
                    R"({"model":"support-intent","strategy":"random"})");
  (void)sel2;
  auto frank_q = Fetch(port_, "GET", "/v1/labeling/queue?model=support-intent&annotator=frank");
  EXPECT_NE(frank_q.body.find(R"("may_take_hard":false)"), std::string::npos) << frank_q.body;
  auto erin_q = Fetch(port_, "GET", "/v1/labeling/queue?model=support-intent&annotator=erin");
  EXPECT_NE(erin_q.body.find(R"("may_take_hard":true)"), std::string::npos) << erin_q.body;

  // The CLI prints the same report from the data dir.
  auto cli = RunClosedloop("labeling report --data-dir " + dir_.path() + " --model support-intent");
  ASSERT_EQ(cli.exit_code, 0) << cli.output;
  for (const char* want : {"fleiss kappa", "alice", "carol", "queue depth", "label distribution",
                           "cohen kappa alice / bob"}) {
    EXPECT_NE(cli.output.find(want), std::string::npos) << want << "\n" << cli.output;
  }
  EXPECT_EQ(Fetch(port_, "GET", "/v2/health/ready").status, 200);  // still up
}

// Query-by-committee over an ensemble's members (train text --model mlp --ensemble 2);
// a model without a committee is refused with a clear error.
TEST_F(LabelingTest, QueryByCommitteeUsesTheEnsembleMembers) {
  SplitByLabel(kData + "/train.csv", HeldOutIntents(), dir_.File("five.csv"),
               dir_.File("rest.csv"));
  auto [rc, out] =
      RunClosedloop("train text --model mlp --ensemble 2 --input " + dir_.File("five.csv") +
                    " --label-col category --output " + dir_.File("models/five/1") +
                    " --hidden 32 --max-epochs 3 --threads 1 --no-tracking");
  ASSERT_EQ(rc, 0) << out;
  Start(LabelingConfig());
  auto rows = ReadTextLabelRows(kData + "/test.csv");
  int sent = 0;
  for (const auto& r : rows) {
    if (!HeldOutIntents().count(r.label)) continue;
    auto p = Fetch(port_, "POST", "/v1/predict",
                   R"({"model":"five","text":)" + JsonString(r.text) + "}");
    ASSERT_EQ(p.status, 200) << p.body;
    if (++sent == 80) break;
  }
  auto sel = Fetch(port_, "POST", "/v1/labeling/select",
                   R"({"model":"five","strategy":"qbc","batch":8,"random_share":0})");
  ASSERT_EQ(sel.status, 200) << sel.body;
  EXPECT_EQ(ParseJson(sel.body)->Num("committee"), 2) << sel.body;
  auto tasks = Tasks(sel.body);
  ASSERT_EQ(tasks.size(), 8u) << sel.body;
  for (const auto& t : tasks) EXPECT_EQ(t.strategy, "qbc+diversity");
  EXPECT_GT(tasks[0].score, 0) << sel.body;  // the members disagree on the best-scored one
  Traffic(20);
  auto none =
      Fetch(port_, "POST", "/v1/labeling/select", R"({"model":"support-intent","strategy":"qbc"})");
  EXPECT_EQ(none.status, 400) << none.body;
  EXPECT_NE(none.body.find("committee"), std::string::npos) << none.body;
}

// Finished tasks are training data: `closedloop retrain` counts them and writes
// their provenance.
TEST_F(LabelingTest, SettledLabelsRetrainTheModel) {
  SplitByLabel(kData + "/train.csv", HeldOutIntents(), dir_.File("five.csv"),
               dir_.File("rest.csv"));
  SplitByLabel(kData + "/test.csv", HeldOutIntents(), dir_.File("five_test.csv"),
               dir_.File("rest_test.csv"));
  auto trained = RunClosedloop(
      "train text --input " + dir_.File("five.csv") + " --test " + dir_.File("five_test.csv") +
      " --label-col category --epoch 5 --dim 16 --minn 0 --maxn 0 --bucket 20000 --threads 1 "
      "--seed 1 --progress never --data-dir " +
      dir_.path() + " --register support-intent --alias champion");
  ASSERT_EQ(trained.exit_code, 0) << trained.output;
  Start(LabelingConfig(), /*install_model=*/false);
  std::map<std::string, std::string> truth;
  for (const auto& r : ReadTextLabelRows(dir_.File("five_test.csv"))) {
    auto p = Fetch(port_, "POST", "/v1/predict",
                   R"({"model":"support-intent","text":)" + JsonString(r.text) + "}");
    ASSERT_EQ(p.status, 200) << p.body;
    truth[r.text] = r.label;
  }
  auto sel =
      Fetch(port_, "POST", "/v1/labeling/select", R"({"model":"support-intent","batch":20})");
  auto tasks = Tasks(sel.body);
  ASSERT_EQ(tasks.size(), 20u) << sel.body;
  for (const std::string who : {"alice", "bob"}) {
    for (const auto& t : tasks) ASSERT_EQ(Annotate(t.id, As(who, truth[t.text])).status, 201);
  }
  auto r = RunClosedloop("retrain support-intent --threads 1 --data-dir " + dir_.path());
  EXPECT_NE(r.output.find(R"("annotations":20)"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(R"("human_labels":20)"), std::string::npos) << r.output;
}

TEST_F(LabelingTest, AcknowledgedAnnotationsSurviveSigkill) {
  Start(LabelingConfig());
  Traffic(60);
  auto sel =
      Fetch(port_, "POST", "/v1/labeling/select", R"({"model":"support-intent","batch":20})");
  auto tasks = Tasks(sel.body);
  ASSERT_EQ(tasks.size(), 20u) << sel.body;
  for (const auto& t : tasks) ASSERT_EQ(Annotate(t.id, As("alice", "card_arrival")).status, 201);
  server_->Signal(SIGKILL);
  server_->WaitExit(std::chrono::seconds(10));
  server_ = std::make_unique<ServerProcess>(UpArgs(dir_.path(), dir_.File("closedloop.toml")),
                                            dir_.File("stderr2.log"));
  ASSERT_TRUE(server_->WaitReady()) << server_->Stderr();
  port_ = server_->port();
  auto all = Fetch(port_, "GET", "/v1/labeling/tasks?model=support-intent&status=all");
  auto after = Tasks(all.body);
  ASSERT_EQ(after.size(), 20u) << all.body;
  for (const auto& t : tasks) {
    auto one = Fetch(port_, "GET", "/v1/labeling/tasks/" + t.id);
    EXPECT_NE(one.body.find(R"("annotator":"alice","answer":"label","label":"card_arrival")"),
              std::string::npos)
        << one.body;
  }
}

TEST_F(LabelingTest, EscalationAnswersJoinTheAnnotationStore) {
  WriteFile(dir_.File("support.toml"), R"(intent_model = "support-intent"
sentiment_model = ""
confidence_threshold = 0.99
default_reply = "About {intent}."
)");
  Start(LabelingConfig("[support]\nrules_file = \"" + dir_.File("support.toml") +
                       "\"\n[feedback]\nsentiment_model = \"\"\n"));
  auto inq =
      Fetch(port_, "POST", "/v1/support/inquiries", R"({"text":"my card still has not come"})");
  ASSERT_EQ(inq.status, 200) << inq.body;
  ASSERT_NE(inq.body.find("escalate"), std::string::npos) << inq.body;
  const std::string id(ParseJson(inq.body)->Str("request_id"));
  auto res = Fetch(port_, "POST", "/v1/support/escalations/" + id + "/resolve",
                   R"({"label":"card_arrival","reply":"It is on its way."})");
  ASSERT_EQ(res.status, 200) << res.body;
  auto tasks = Fetch(port_, "GET", "/v1/labeling/tasks?model=support-intent&status=done");
  auto done = Tasks(tasks.body);
  ASSERT_EQ(done.size(), 1u) << tasks.body;
  EXPECT_EQ(done[0].strategy, "escalation");
  auto one = Fetch(port_, "GET", "/v1/labeling/tasks/" + done[0].id);
  EXPECT_NE(one.body.find(R"("source":"escalation")"), std::string::npos) << one.body;
  EXPECT_NE(one.body.find(R"("final_label":"card_arrival")"), std::string::npos) << one.body;
}

class LabelingAuthTest : public LabelingTest {
 protected:
  void SetUp() override {
    Start(LabelingConfig("[auth]\nenabled = true\n"));
    admin_ = CreateApiKey(dir_.path(), "ops", "admin");
    alice_ = CreateApiKey(dir_.path(), "alice", "label");
    bob_ = CreateApiKey(dir_.path(), "bob", "predict");
    ASSERT_FALSE(admin_.empty() || alice_.empty() || bob_.empty());
  }
  std::vector<std::pair<std::string, std::string>> Key(const std::string& k) {
    return {{"Content-Type", "application/json"}, {"X-Api-Key", k}};
  }
  std::string admin_, alice_, bob_;
};

TEST_F(LabelingAuthTest, ScopeLabelPrincipalAndCookieSignInWithCsrf) {
  Traffic(40, Key(admin_));
  auto sel = Fetch(port_, "POST", "/v1/labeling/select", R"({"model":"support-intent","batch":5})",
                   Key(admin_));
  auto tasks = Tasks(sel.body);
  ASSERT_EQ(tasks.size(), 5u) << sel.body;
  EXPECT_EQ(Fetch(port_, "GET", "/v1/labeling/queue?model=support-intent").status, 401);
  auto forbidden = Fetch(port_, "GET", "/v1/labeling/queue?model=support-intent", "", Key(bob_));
  EXPECT_EQ(forbidden.status, 403);
  EXPECT_NE(forbidden.body.find("'label'"), std::string::npos) << forbidden.body;
  EXPECT_EQ(Annotate(tasks[0].id, R"({"label":"card_arrival"})", Key(bob_)).status, 403);
  // alice (scope label) may label but not select or read the report.
  EXPECT_EQ(
      Fetch(port_, "POST", "/v1/labeling/select", R"({"model":"support-intent"})", Key(alice_))
          .status,
      403);
  auto q = Fetch(port_, "GET", "/v1/labeling/queue?model=support-intent", "", Key(alice_));
  ASSERT_EQ(q.status, 200) << q.body;
  EXPECT_NE(q.body.find(R"("annotator":"alice")"), std::string::npos) << q.body;
  auto a = Annotate(tasks[0].id, R"({"label":"card_arrival"})", Key(alice_));
  ASSERT_EQ(a.status, 201) << a.body;
  EXPECT_NE(a.body.find(R"("annotator":"alice")"), std::string::npos);
  auto spoof =
      Annotate(tasks[1].id, R"({"label":"card_arrival","annotator":"mallory"})", Key(alice_));
  EXPECT_EQ(spoof.status, 400);
  EXPECT_NE(spoof.body.find("'annotator'"), std::string::npos);

  // Sign in by cookie: HttpOnly, SameSite=Strict; a POST without the CSRF header is refused.
  auto page = Fetch(port_, "GET", "/ui/label");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.Header("content-security-policy").find("script-src 'self'"), std::string::npos);
  EXPECT_EQ(page.Header("content-security-policy").find("unsafe-inline"), std::string::npos);
  EXPECT_EQ(Fetch(port_, "POST", "/ui/login", R"({"token":"clk_nope"})").status, 401);
  auto login = Fetch(port_, "POST", "/ui/login", R"({"token":")" + alice_ + R"("})");
  ASSERT_EQ(login.status, 200) << login.body;
  const std::string cookies = login.Header("set-cookie");
  EXPECT_NE(cookies.find("HttpOnly"), std::string::npos) << cookies;
  EXPECT_NE(cookies.find("SameSite=Strict"), std::string::npos) << cookies;
  auto csrf_at = cookies.find("closedloop_csrf=");
  ASSERT_NE(csrf_at, std::string::npos) << cookies;
  const std::string csrf = cookies.substr(csrf_at + 16, 64);
  const std::string cookie = "closedloop_session=" + alice_ + "; closedloop_csrf=" + csrf;
  auto by_cookie =
      Fetch(port_, "GET", "/v1/labeling/queue?model=support-intent", "", {{"Cookie", cookie}});
  EXPECT_EQ(by_cookie.status, 200) << by_cookie.body;
  auto no_csrf = Annotate(tasks[1].id, R"({"label":"card_arrival"})",
                          {{"Content-Type", "application/json"}, {"Cookie", cookie}});
  EXPECT_EQ(no_csrf.status, 403);
  EXPECT_NE(no_csrf.body.find("CSRF"), std::string::npos) << no_csrf.body;
  auto with_csrf =
      Annotate(tasks[1].id, R"({"label":"card_arrival"})",
               {{"Content-Type", "application/json"}, {"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  EXPECT_EQ(with_csrf.status, 201) << with_csrf.body;
}

TEST_F(LabelingAuthTest, LabelsThroughThePageInHeadlessChromium) {
  Traffic(40, Key(admin_));
  auto sel = Fetch(port_, "POST", "/v1/labeling/select", R"({"model":"support-intent","batch":10})",
                   Key(admin_));
  ASSERT_EQ(Tasks(sel.body).size(), 10u) << sel.body;
  const std::string shots = std::string(CLOSEDLOOP_SOURCE_DIR_FOR_TESTS) + "/build/test-artifacts";
  RunCommand("mkdir -p " + shots);
  auto r = RunCommand("node " + std::string(CLOSEDLOOP_SOURCE_DIR_FOR_TESTS) +
                      "/tests/js/label_page.js http://127.0.0.1:" + std::to_string(port_) + " " +
                      alice_ + " support-intent " + shots + " 2>&1");
  ASSERT_EQ(r.exit_code, 0) << r.output;
  std::cout << r.output;
  EXPECT_NE(r.output.find("login ok"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("progress 2"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("outside_requests 0"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("csp_violations 0"), std::string::npos) << r.output;
  // The answers the page sent, found through the API, by the signed-in principal.
  std::map<std::string, std::string> labeled;
  std::string skipped;
  std::istringstream lines(r.output);
  for (std::string line; std::getline(lines, line);) {
    std::istringstream in(line);
    std::string what, task, label;
    in >> what >> task >> label;
    if (what == "labeled") labeled[task] = label;
    if (what == "skipped") skipped = task;
  }
  ASSERT_EQ(labeled.size(), 2u) << r.output;
  EXPECT_EQ(labeled.rbegin()->second.empty(), false);
  for (const auto& [task, label] : labeled) {
    auto t = Fetch(port_, "GET", "/v1/labeling/tasks/" + task, "", Key(admin_));
    EXPECT_NE(t.body.find(R"("annotator":"alice","answer":"label","label":")" + label + "\""),
              std::string::npos)
        << t.body;
  }
  EXPECT_TRUE(std::count_if(labeled.begin(), labeled.end(),
                            [](const auto& kv) { return kv.second == "card_arrival"; }) >= 1);
  auto s = Fetch(port_, "GET", "/v1/labeling/tasks/" + skipped, "", Key(admin_));
  EXPECT_NE(s.body.find(R"("annotator":"alice","answer":"skip")"), std::string::npos) << s.body;
}

}  // namespace
}  // namespace closedloop::testing
