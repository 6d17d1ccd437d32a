#include "feedback/feedback_timeline.h"

#include "core/json_writer.h"
#include "feedback/optional_values.h"

namespace closedloop {

StatusOr<std::vector<FeedbackBucket>> FeedbackTimeline(SqliteDb& db, const std::string& model,
                                                       int64_t since_ms, int64_t until_ms,
                                                       int64_t bucket_ms) {
  if (bucket_ms < 1) return InvalidArgument("parameter 'bucket_ms' must be >= 1");
  if (until_ms <= since_ms) return InvalidArgument("parameter 'since' must be before 'until'");
  const int64_t n = (until_ms - since_ms + bucket_ms - 1) / bucket_ms;
  if (n > kMaxTimelineBuckets) {
    return InvalidArgument("parameter 'bucket_ms': the range holds " + std::to_string(n) +
                           " buckets, at most " + std::to_string(kMaxTimelineBuckets) +
                           " are allowed");
  }
  std::vector<FeedbackBucket> out(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) out[static_cast<size_t>(i)].start_ms = since_ms + i * bucket_ms;
  // ?1 model ('' for all), ?2 since, ?3 until, ?4 bucket width.
  auto run = [&](const std::string& sql, auto&& row) -> Status {
    ASSIGN_OR_RETURN(auto q, db.Prepare(sql));
    q.BindText(1, model);
    q.BindInt(2, since_ms);
    q.BindInt(3, until_ms);
    q.BindInt(4, bucket_ms);
    for (;;) {
      ASSIGN_OR_RETURN(bool more, q.Step());
      if (!more) return OkStatus();
      int64_t b = q.ColumnInt(0);
      if (b >= 0 && b < n) row(out[static_cast<size_t>(b)], q);
    }
  };
  RETURN_IF_ERROR(run(
      "SELECT (p.ts_ms - ?2) / ?4 AS b, COUNT(*) FROM predictions p WHERE (?1 = '' OR p.model = "
      "?1) AND p.ts_ms >= ?2 AND p.ts_ms < ?3 GROUP BY b",
      [](FeedbackBucket& b, const SqliteStatement& q) { b.predictions = q.ColumnInt(1); }));
  RETURN_IF_ERROR(run(
      "SELECT (f.ts_ms - ?2) / ?4 AS b, COUNT(*), COUNT(f.rating), AVG(f.rating), COUNT(f.nps), "
      "SUM(f.nps >= 9), SUM(f.nps <= 6), COUNT(f.click), AVG(f.click), AVG(f.explicit_score), "
      "AVG(f.implicit_score) FROM feedback f JOIN predictions p ON p.request_id = f.request_id "
      "WHERE (?1 = '' OR p.model = ?1) AND f.ts_ms >= ?2 AND f.ts_ms < ?3 GROUP BY b",
      [](FeedbackBucket& b, const SqliteStatement& q) {
        b.feedback = q.ColumnInt(1);
        b.ratings = q.ColumnInt(2);
        b.mean_rating = OptionalColumn(q, 3);
        b.nps_answers = q.ColumnInt(4);
        if (b.nps_answers > 0) {
          b.nps = 100.0 * static_cast<double>(q.ColumnInt(5) - q.ColumnInt(6)) /
                  static_cast<double>(b.nps_answers);
        }
        b.click_signals = q.ColumnInt(7);
        b.click_through_rate = OptionalColumn(q, 8);
        b.mean_explicit = OptionalColumn(q, 9);
        b.mean_implicit = OptionalColumn(q, 10);
      }));
  RETURN_IF_ERROR(
      run("SELECT (e.ts_ms - ?2) / ?4 AS b, COUNT(*) FROM escalations e JOIN predictions p ON "
          "p.request_id = e.request_id WHERE (?1 = '' OR p.model = ?1) AND e.ts_ms >= ?2 AND "
          "e.ts_ms < ?3 GROUP BY b",
          [](FeedbackBucket& b, const SqliteStatement& q) { b.escalations = q.ColumnInt(1); }));
  for (auto& b : out) {
    if (b.predictions > 0) {
      b.escalation_rate = static_cast<double>(b.escalations) / static_cast<double>(b.predictions);
    }
  }
  return out;
}

std::string FeedbackTimelineJson(const std::string& model, int64_t since_ms, int64_t until_ms,
                                 int64_t bucket_ms, const std::vector<FeedbackBucket>& buckets) {
  JsonWriter w(256 + buckets.size() * 320);
  w.BeginObject().Key("model").String(model).Key("since_ms").Int(since_ms);
  w.Key("until_ms").Int(until_ms).Key("bucket_ms").Int(bucket_ms).Key("buckets").BeginArray();
  for (const auto& b : buckets) {
    w.BeginObject().Key("start_ms").Int(b.start_ms).Key("predictions").Int(b.predictions);
    w.Key("feedback").Int(b.feedback).Key("ratings").Int(b.ratings);
    OptionalField(w, "mean_rating", b.mean_rating);
    w.Key("nps_answers").Int(b.nps_answers);
    OptionalField(w, "nps", b.nps);
    w.Key("click_signals").Int(b.click_signals);
    OptionalField(w, "click_through_rate", b.click_through_rate);
    w.Key("escalations").Int(b.escalations);
    OptionalField(w, "escalation_rate", b.escalation_rate);
    OptionalField(w, "mean_explicit_score", b.mean_explicit);
    OptionalField(w, "mean_implicit_score", b.mean_implicit);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return std::move(w).Take();
}

}  // namespace closedloop
