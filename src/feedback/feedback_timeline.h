// What the feedback says over time, one bucket per `bucket_ms` (the console's
// feedback charts): per bucket the predictions made, the feedback given (by the
// feedback's time), mean rating, NPS, click-through rate, escalations and their
// rate (escalations / predictions of the bucket), mean explicit and implicit score.
// Reads predictions.db with the caller's connection; thread-safe as long as the
// connection is not shared.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/sqlite_db.h"

namespace closedloop {

struct FeedbackBucket {
  int64_t start_ms = 0;
  int64_t predictions = 0, feedback = 0;
  int64_t ratings = 0;
  std::optional<double> mean_rating;
  int64_t nps_answers = 0;
  std::optional<double> nps;  // −100..100
  int64_t click_signals = 0;
  std::optional<double> click_through_rate;
  int64_t escalations = 0;
  std::optional<double> escalation_rate;
  std::optional<double> mean_explicit, mean_implicit;
};

inline constexpr int64_t kMaxTimelineBuckets = 2000;

// Every bucket of [since_ms, until_ms) in order, empty ones included (counts 0,
// means absent). `model` empty: every model. InvalidArgument when bucket_ms < 1
// or the range holds more than kMaxTimelineBuckets buckets.
StatusOr<std::vector<FeedbackBucket>> FeedbackTimeline(SqliteDb& db, const std::string& model,
                                                       int64_t since_ms, int64_t until_ms,
                                                       int64_t bucket_ms);

// {"model", "since_ms", "until_ms", "bucket_ms", "buckets": [{start_ms, predictions,
//  feedback, ratings, mean_rating, nps_answers, nps, click_signals,
//  click_through_rate, escalations, escalation_rate, mean_explicit_score,
//  mean_implicit_score}]} with null for an absent mean.
std::string FeedbackTimelineJson(const std::string& model, int64_t since_ms, int64_t until_ms,
                                 int64_t bucket_ms, const std::vector<FeedbackBucket>& buckets);

}  // namespace closedloop
