// POST /v1/feedback through the real binary: tied to a served prediction, scored
// (the comment's sentiment by a real fastText sentiment model), answered only once
// durable (checked by SIGKILLing the server right after the answers), idempotent,
// validated, and the batch form.
#include <sqlite3.h>

#include <csignal>

#include "integration/fixture.h"
#include "support/command.h"

namespace closedloop::testing {
namespace {

class FeedbackTest : public ServerFixture {
 protected:
  // A tiny negative/positive model served as comment-sentiment@champion.
  void InstallSentimentModel() {
    std::string rows = "text,label\n";
    const char* neg[] = {"useless and slow", "terrible answer", "awful, did not help",
                         "bad service",      "this was wrong",  "angry and disappointed"};
    const char* pos[] = {"great, thank you", "very helpful answer", "perfect, solved it",
                         "good service",     "fast and right",      "happy with the help"};
    for (int rep = 0; rep < 4; ++rep) {
      for (const char* t : neg) rows += "\"" + std::string(t) + "\",negative\n";
      for (const char* t : pos) rows += "\"" + std::string(t) + "\",positive\n";
    }
    WriteFile(dir_.File("s.csv"), rows);
    auto r = RunClosedloop("train text --input " + dir_.File("s.csv") + " --output " +
                           dir_.File("models/comment-sentiment/1") +
                           " --epoch 30 --dim 8 --minn 0 --maxn 0 --bucket 1000 --threads 1 "
                           "--no-tracking");
    ASSERT_EQ(r.exit_code, 0) << r.output;
    WriteFile(dir_.File("models/comment-sentiment/aliases.toml"), "champion = 1\n");
  }
  std::string PredictId() {
    auto r = Predict(R"({"model":"support-intent","text":"I want my money back"})");
    return std::string(ParseJson(r.body)->Str("request_id"));
  }
  HttpResult Feedback(const std::string& body) {
    return Fetch(port_, "POST", "/v1/feedback", body);
  }
};

TEST_F(FeedbackTest, StoredScoredIdempotentAndDurableBeforeTheAnswer) {
  InstallSentimentModel();
  Start();
  std::string id = PredictId();
  auto first = Feedback(R"({"request_id":")" + id +
                        R"(","click":true,"dwell_ms":45300,"scroll_depth":0.78,"rating":2,)"
                        R"("comment":"useless and slow","idempotency_key":"k-1"})");
  ASSERT_EQ(first.status, 201) << first.body;
  auto j = ParseJson(first.body);
  EXPECT_NEAR(j->Num("implicit_score"), 0.9145, 1e-4);
  EXPECT_LT(j->Num("comment_sentiment"), 0) << first.body;  // a negative comment
  // explicit = 0.5·(2−1)/4 + 0.3·S (no nps): renormalized over the present weights.
  EXPECT_NEAR(j->Num("explicit_score"), (0.125 + 0.3 * j->Num("comment_sentiment")) / 0.8, 1e-9);
  std::string feedback_id(j->Str("feedback_id"));
  auto again = Feedback(R"({"request_id":")" + id + R"(","rating":5,"idempotency_key":"k-1"})");
  EXPECT_EQ(again.status, 200);
  EXPECT_EQ(ParseJson(again.body)->Str("feedback_id"), feedback_id);
  EXPECT_NE(again.body.find(R"("duplicate":true)"), std::string::npos);
  auto read = Fetch(port_, "GET", "/v1/feedback/" + feedback_id);
  EXPECT_EQ(read.status, 200) << read.body;

  // 50 acknowledged pieces of feedback, then SIGKILL: every one is in the database.
  std::vector<std::string> acked;
  for (int i = 0; i < 50; ++i) {
    auto r = Feedback(R"({"request_id":")" + id + R"(","nps":)" + std::to_string(i % 11) + "}");
    ASSERT_EQ(r.status, 201) << r.body;
    acked.emplace_back(ParseJson(r.body)->Str("feedback_id"));
  }
  server_->Signal(SIGKILL);
  server_->WaitExit(std::chrono::seconds(10));
  sqlite3* db = nullptr;
  ASSERT_EQ(
      sqlite3_open_v2(dir_.File("predictions.db").c_str(), &db, SQLITE_OPEN_READONLY, nullptr),
      SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(db, "SELECT COUNT(*) FROM feedback WHERE feedback_id = ? AND request_id = ?",
                     -1, &st, nullptr);
  int found = 0;
  for (const auto& f : acked) {
    sqlite3_bind_text(st, 1, f.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_bind_text(st, 2, id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_step(st);
    found += sqlite3_column_int(st, 0);
    sqlite3_reset(st);
  }
  sqlite3_finalize(st);
  sqlite3_close(db);
  EXPECT_EQ(found, 50);
}

TEST_F(FeedbackTest, BadFeedbackIsAClearErrorAndTheServerStaysUp) {
  Start();
  std::string id = PredictId();
  struct Case {
    std::string body;
    int status;
    std::string message;
  };
  for (const Case& c : std::vector<Case>{
           {R"({"request_id":"01NOSUCHREQUEST","rating":5})", 404,
            "no prediction with request_id '01NOSUCHREQUEST'"},
           {R"({"request_id":")" + id + R"("})", 400, "no feedback signal"},
           {R"({"request_id":")" + id + R"(","rating":9})", 400,
            "field 'rating' must be from 1 to 5"},
           {R"({"request_id":")" + id + R"(","nps":-1})", 400, "field 'nps' must be from 0 to 10"},
           {R"({"request_id":")" + id + R"(","scroll_depth":2})", 400, "field 'scroll_depth'"},
           {R"({"request_id":")" + id + R"(","mood":"ok"})", 400, "unknown field 'mood'"},
           {"not json", 400, "malformed JSON"},
       }) {
    auto r = Feedback(c.body);
    EXPECT_EQ(r.status, c.status) << c.body << " -> " << r.body;
    EXPECT_NE(r.body.find(c.message), std::string::npos) << r.body;
  }
  // Without a sentiment model a comment is stored, just not scored.
  auto plain = Feedback(R"({"request_id":")" + id + R"(","comment":"meh"})");
  ASSERT_EQ(plain.status, 201) << plain.body;
  EXPECT_NE(plain.body.find(R"("comment_sentiment":null)"), std::string::npos);
  EXPECT_EQ(Fetch(port_, "GET", "/v1/feedback/01NOSUCH").status, 404);
  EXPECT_EQ(Fetch(port_, "GET", "/v2/health/live").status, 200);
}

TEST_F(FeedbackTest, BatchAnswersPerItem) {
  Start();
  std::string a = PredictId(), b = PredictId();
  auto r = Fetch(port_, "POST", "/v1/feedback:batch",
                 R"({"feedback":[{"request_id":")" + a + R"(","click":true},)" +
                     R"({"request_id":"01MISSING","rating":3},)" + R"({"request_id":")" + b +
                     R"(","label":"request_refund"}]})");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = ParseJson(r.body);
  EXPECT_EQ(j->Num("stored"), 2);
  EXPECT_EQ(j->Num("failed"), 1);
  EXPECT_NE(r.body.find(R"({"status":404,"error":"no prediction with request_id '01MISSING'"})"),
            std::string::npos)
      << r.body;
  auto bad = Fetch(port_, "POST", "/v1/feedback:batch", R"({"feedback":[{"rating":3}]})");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("feedback[0]: missing field 'request_id'"), std::string::npos);
}

TEST_F(FeedbackTest, CommentTopicsInTheSummaryAndTheReport) {
  InstallSentimentModel();
  Start();
  std::string id = PredictId();
  for (const char* c :
       {"useless and slow", "terrible answer", "awful, did not help", "bad service",
        "great, thank you", "very helpful answer", "perfect, solved it", "good service"}) {
    ASSERT_EQ(Feedback(R"({"request_id":")" + id + R"(","comment":")" + c + "\"}").status, 201);
  }
  auto r = Fetch(port_, "GET", "/v1/feedback/summary");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = ParseJson(r.body);
  int64_t k = 0;
  ASSERT_FALSE(j->root["topics"]["k"].get(k)) << r.body;
  EXPECT_GE(k, 2);
  simdjson::dom::array clusters;
  ASSERT_FALSE(j->root["topics"]["clusters"].get(clusters));
  EXPECT_EQ(clusters.size(), static_cast<size_t>(k));
  auto report = RunClosedloop("feedback report --data-dir " + dir_.path());
  EXPECT_NE(report.output.find("comment topics   k="), std::string::npos) << report.output;
}

TEST_F(FeedbackTest, SummaryOverAModelsFeedbackAndTheCliReport) {
  Start();
  std::string a = PredictId(), b = PredictId(), c = PredictId();
  std::string label_a(ParseJson(Fetch(port_, "GET", "/v1/predictions/" + a).body)->Str("label"));
  for (const std::string& body :
       {R"({"request_id":")" + a + R"(","rating":5,"nps":10,"click":true})",
        R"({"request_id":")" + b + R"(","rating":2,"nps":3,"click":false})",
        R"({"request_id":")" + c + R"(","rating":4,"nps":8})",
        R"({"request_id":")" + a + R"(","label":")" + label_a + R"("})",
        R"({"request_id":")" + b + R"(","label":"not_what_it_said"})"}) {
    ASSERT_EQ(Feedback(body).status, 201) << body;
  }
  auto r = Fetch(port_, "GET", "/v1/feedback/summary?model=support-intent");
  ASSERT_EQ(r.status, 200) << r.body;
  auto j = ParseJson(r.body);
  EXPECT_EQ(j->Num("predictions"), 3);
  EXPECT_EQ(j->Num("feedback"), 5);
  EXPECT_NEAR(j->Num("mean_rating"), 11.0 / 3, 1e-9);
  EXPECT_NE(r.body.find(R"("ratings":{"1":0,"2":1,"3":0,"4":1,"5":1})"), std::string::npos);
  EXPECT_NEAR(j->Num("nps"), 0.0, 1e-9);  // one promoter, one passive, one detractor
  EXPECT_NEAR(j->Num("click_through_rate"), 0.5, 1e-9);
  EXPECT_EQ(j->Num("human_labels"), 2);
  EXPECT_NEAR(j->Num("label_agreement"), 0.5, 1e-9);
  EXPECT_EQ(j->Num("escalations"), 0);
  EXPECT_NEAR(j->Num("escalation_rate"), 0.0, 1e-9);
  auto none = Fetch(port_, "GET", "/v1/feedback/summary?model=other");
  EXPECT_NE(none.body.find(R"("feedback":0,"mean_implicit_score":null)"), std::string::npos)
      << none.body;
  EXPECT_EQ(Fetch(port_, "GET", "/v1/feedback/summary?since=-5").status, 400);
  auto report =
      RunClosedloop("feedback report --json --model support-intent --data-dir " + dir_.path());
  ASSERT_EQ(report.exit_code, 0) << report.output;
  EXPECT_EQ(ParseJson(report.output)->Num("feedback"), 5);
  auto text = RunClosedloop("feedback report --data-dir " + dir_.path());
  EXPECT_NE(text.output.find("label agreement  0.500 of 2 human labels"), std::string::npos)
      << text.output;
  auto missing = RunClosedloop("feedback report --data-dir " + dir_.File("nowhere"));
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_NE(missing.output.find("no prediction log"), std::string::npos);
}

}  // namespace
}  // namespace closedloop::testing
