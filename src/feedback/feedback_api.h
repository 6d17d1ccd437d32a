// FeedbackApi: POST /v1/feedback and POST /v1/feedback:batch — feedback tied to
// the exact prediction it is about (its request_id), scored (implicit, explicit,
// the comment's sentiment from the configured sentiment model) and stored through
// the prediction log's group commit. The HTTP answer is sent only once the
// feedback is durable: 201 {feedback_id, ...scores, duplicate: false}; a repeated
// idempotency key gets 200 with the first stored result (duplicate: true); an
// unknown request_id 404; a full log queue 503 with Retry-After.
// GET /v1/feedback/{feedback_id} reads one back; GET /v1/feedback/summary?model=&since=
// summarizes (see feedback_summary.h); GET /v1/feedback/timeline?model=&since=&until=&bucket_ms=
// buckets it over time (feedback_timeline.h).
// Thread safety: handlers run on any io thread; state is the thread-safe log and
// model repository.
#pragma once

#include "core/clock.h"
#include "core/config.h"
#include "core/ulid.h"
#include "feedback/scores.h"
#include "http/router.h"
#include "serving/model_repository.h"
#include "store/prediction_log.h"

namespace closedloop {

class FeedbackApi {
 public:
  FeedbackApi(const FeedbackConfig& config, PredictionLog& log, const ModelRepository& models,
              const Clock& clock);
  void Register(Router& router);

  // Fills id, time, the comment's sentiment and the scores of a parsed record.
  void Score(FeedbackRecord& f) const;

 private:
  void Post(RequestContext& ctx);
  void PostBatch(RequestContext& ctx);
  void Summary(RequestContext& ctx);
  void Timeline(RequestContext& ctx);  // GET /v1/feedback/timeline (feedback_timeline.h)

  const FeedbackConfig config_;
  const ScoreWeights weights_;
  PredictionLog& log_;
  const ModelRepository& models_;
  const Clock& clock_;
  UlidGenerator ids_;
};

// {"feedback_id", "request_id", "implicit_score", "explicit_score",
//  "comment_sentiment", "duplicate"} (null for an absent score).
std::string FeedbackJson(const FeedbackRecord& f, bool duplicate);

}  // namespace closedloop
