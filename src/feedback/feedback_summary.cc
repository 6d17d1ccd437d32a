#include "feedback/feedback_summary.h"

#include <cstdio>
#include <vector>

#include "core/json_writer.h"
#include "feedback/optional_values.h"
#include "feedback/scores.h"

namespace closedloop {

namespace {

// Feedback rows joined to their predictions, filtered by model and time.
constexpr std::string_view kJoin =
    " FROM feedback f JOIN predictions p ON p.request_id = f.request_id "
    "WHERE (?1 = '' OR p.model = ?1) AND f.ts_ms >= ?2 ";

StatusOr<SqliteStatement> Query(SqliteDb& db, const std::string& sql, const std::string& model,
                                int64_t since) {
  ASSIGN_OR_RETURN(auto q, db.Prepare(sql));
  q.BindText(1, model);
  q.BindInt(2, since);
  return q;
}

}  // namespace

StatusOr<FeedbackSummary> SummarizeFeedback(SqliteDb& db, const std::string& model,
                                            int64_t since_ms) {
  FeedbackSummary s;
  s.model = model;
  s.since_ms = since_ms;
  {
    ASSIGN_OR_RETURN(auto q, Query(db,
                                   "SELECT COUNT(*) FROM predictions p WHERE (?1 = '' OR "
                                   "p.model = ?1) AND p.ts_ms >= ?2",
                                   model, since_ms));
    RETURN_IF_ERROR(q.Step().status());
    s.predictions = q.ColumnInt(0);
  }
  {
    ASSIGN_OR_RETURN(auto q, Query(db,
                                   "SELECT COUNT(*), AVG(f.implicit_score), AVG(f.explicit_score), "
                                   "AVG(f.rating), COUNT(f.click), AVG(f.click), "
                                   "COUNT(f.label), AVG(f.label = p.label)" +
                                       std::string(kJoin),
                                   model, since_ms));
    RETURN_IF_ERROR(q.Step().status());
    s.feedback = q.ColumnInt(0);
    s.mean_implicit = OptionalColumn(q, 1);
    s.mean_explicit = OptionalColumn(q, 2);
    s.mean_rating = OptionalColumn(q, 3);
    s.click_signals = q.ColumnInt(4);
    s.click_through_rate = OptionalColumn(q, 5);
    s.human_labels = q.ColumnInt(6);
    s.label_agreement = OptionalColumn(q, 7);
  }
  {
    ASSIGN_OR_RETURN(auto q, Query(db,
                                   "SELECT f.rating, COUNT(*)" + std::string(kJoin) +
                                       "AND f.rating IS NOT NULL GROUP BY f.rating",
                                   model, since_ms));
    for (;;) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      int64_t r = q.ColumnInt(0);
      if (r >= 1 && r <= 5) s.ratings[static_cast<size_t>(r - 1)] = q.ColumnInt(1);
    }
  }
  {
    ASSIGN_OR_RETURN(
        auto q,
        Query(db, "SELECT f.nps" + std::string(kJoin) + "AND f.nps IS NOT NULL", model, since_ms));
    std::vector<int> answers;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      answers.push_back(static_cast<int>(q.ColumnInt(0)));
    }
    s.nps_answers = static_cast<int64_t>(answers.size());
    s.nps = NetPromoterScore(answers);
  }
  {
    ASSIGN_OR_RETURN(auto q, Query(db,
                                   "SELECT COUNT(*) FROM escalations e JOIN predictions p ON "
                                   "p.request_id = e.request_id WHERE (?1 = '' OR p.model = ?1) "
                                   "AND e.ts_ms >= ?2",
                                   model, since_ms));
    RETURN_IF_ERROR(q.Step().status());
    s.escalations = q.ColumnInt(0);
    if (s.predictions > 0) {
      s.escalation_rate = static_cast<double>(s.escalations) / static_cast<double>(s.predictions);
    }
  }
  return s;
}

StatusOr<std::vector<std::string>> RecentComments(SqliteDb& db, const std::string& model,
                                                  int64_t since_ms, size_t limit,
                                                  std::vector<std::string>* request_ids) {
  ASSIGN_OR_RETURN(auto q, Query(db,
                                 "SELECT f.comment, f.request_id" + std::string(kJoin) +
                                     "AND f.comment IS NOT NULL AND f.comment != '' ORDER BY "
                                     "f.ts_ms DESC LIMIT ?3",
                                 model, since_ms));
  q.BindInt(3, static_cast<int64_t>(limit));
  std::vector<std::string> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(q.ColumnText(0));
    if (request_ids) request_ids->push_back(q.ColumnText(1));
  }
  return out;
}

void AddTopics(FeedbackSummary& s, const std::vector<std::string>& comments,
               const ModelRepository& models, const std::string& embedding_model,
               const std::vector<std::string>* request_ids) {
  auto mv = models.Resolve(embedding_model, "");
  if (!mv.ok()) return;
  std::vector<std::string> kept;
  std::vector<std::vector<float>> vectors;
  for (const auto& c : comments) {
    auto v = (*mv)->backend->SentenceVector(c);
    if (!v.ok()) return;  // the model gives no embeddings
    kept.push_back(c);
    vectors.push_back(std::move(v).value());
  }
  s.topics = ClusterTopics(kept, vectors);
  if (request_ids == nullptr || request_ids->size() != comments.size()) return;
  for (Topic& t : s.topics->topics) {  // every comment was kept: indices match
    for (size_t i = 0; i < t.members.size() && i < kTopicRequestIds; ++i) {
      t.request_ids.push_back((*request_ids)[t.members[i]]);
    }
  }
}

std::string FeedbackSummaryJson(const FeedbackSummary& s) {
  JsonWriter w;
  w.BeginObject().Key("model").String(s.model).Key("since_ms").Int(s.since_ms);
  w.Key("predictions").Int(s.predictions).Key("feedback").Int(s.feedback);
  OptionalField(w, "mean_implicit_score", s.mean_implicit);
  OptionalField(w, "mean_explicit_score", s.mean_explicit);
  w.Key("ratings").BeginObject();
  for (size_t i = 0; i < 5; ++i) w.Key(std::to_string(i + 1)).Int(s.ratings[i]);
  w.EndObject();
  OptionalField(w, "mean_rating", s.mean_rating);
  w.Key("nps_answers").Int(s.nps_answers);
  OptionalField(w, "nps", s.nps);
  w.Key("click_signals").Int(s.click_signals);
  OptionalField(w, "click_through_rate", s.click_through_rate);
  w.Key("escalations").Int(s.escalations);
  OptionalField(w, "escalation_rate", s.escalation_rate);
  w.Key("human_labels").Int(s.human_labels);
  OptionalField(w, "label_agreement", s.label_agreement);
  if (s.topics) {
    w.Key("topics").BeginObject().Key("k").Uint(s.topics->k);
    w.Key("silhouette").Double(s.topics->silhouette).Key("clusters").BeginArray();
    for (const auto& t : s.topics->topics) {
      w.BeginObject().Key("size").Uint(t.size).Key("top_terms").BeginArray();
      for (const auto& term : t.top_terms) w.String(term);
      w.EndArray().Key("representative_comments").BeginArray();
      for (const auto& c : t.representatives) w.String(c);
      w.EndArray().Key("request_ids").BeginArray();
      for (const auto& id : t.request_ids) w.String(id);
      w.EndArray().EndObject();
    }
    w.EndArray().EndObject();
  }
  w.EndObject();
  return std::move(w).Take();
}

std::string FeedbackSummaryText(const FeedbackSummary& s) {
  auto fmt = [](const std::optional<double>& v, const char* f) {
    if (!v) return std::string("n/a");
    char buf[64];
    std::snprintf(buf, sizeof buf, f, *v);
    return std::string(buf);
  };
  std::string out = "model            " + (s.model.empty() ? std::string("(all)") : s.model) +
                    "\npredictions      " + std::to_string(s.predictions) + "\nfeedback         " +
                    std::to_string(s.feedback) + "\nmean implicit    " +
                    fmt(s.mean_implicit, "%.3f") + "\nmean explicit    " +
                    fmt(s.mean_explicit, "%.3f") + "\nratings 1..5     ";
  for (size_t i = 0; i < 5; ++i) out += std::to_string(s.ratings[i]) + (i < 4 ? " " : "");
  out += "  (mean " + fmt(s.mean_rating, "%.2f") + ")" + "\nNPS              " +
         fmt(s.nps, "%+.1f") + " over " + std::to_string(s.nps_answers) + " answers" +
         "\nclick-through    " + fmt(s.click_through_rate, "%.3f") + " of " +
         std::to_string(s.click_signals) + "\nescalation rate  " + fmt(s.escalation_rate, "%.3f") +
         " (" + std::to_string(s.escalations) + ")" + "\nlabel agreement  " +
         fmt(s.label_agreement, "%.3f") + " of " + std::to_string(s.human_labels) +
         " human labels\n";
  if (s.topics && s.topics->k > 0) {
    out += "comment topics   k=" + std::to_string(s.topics->k) + ", silhouette " +
           fmt(s.topics->silhouette, "%.3f") + "\n";
    for (const auto& t : s.topics->topics) {
      out += "  " + std::to_string(t.size) + " comments:";
      for (const auto& term : t.top_terms) out += " " + term;
      out += "\n";
      for (const auto& c : t.representatives) out += "    \"" + c + "\"\n";
    }
  }
  return out;
}

}  // namespace closedloop
