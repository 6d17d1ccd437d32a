#include "feedback/feedback_api.h"

#include <atomic>
#include <mutex>

#include <charconv>
#include "core/json_writer.h"

#include "feedback/feedback_request.h"
#include "feedback/feedback_summary.h"
#include "feedback/feedback_timeline.h"
#include "feedback/sentiment.h"
#include "http/query.h"

namespace closedloop {

namespace http = boost::beast::http;

namespace {

ScoreWeights WeightsFrom(const FeedbackConfig& c) {
  ScoreWeights w;
  w.click = c.w_click, w.dwell = c.w_dwell, w.scroll = c.w_scroll, w.dwell_rate = c.dwell_rate;
  w.rating = c.w_rating, w.comment = c.w_comment, w.nps = c.w_nps;
  return w;
}

void OptionalNumber(JsonWriter& w, const char* key, const std::optional<double>& v) {
  w.Key(key);
  if (v) {
    w.Double(*v);
  } else {
    w.Null();
  }
}

// Topic clustering is quadratic (silhouette): bound the comments it looks at.
constexpr size_t kMaxTopicComments = 500;

void Overloaded(RequestContext& c) {
  c.headers.emplace_back("Retry-After", "1");
  c.Error(Unavailable("feedback queue is full; retry shortly"));
}

}  // namespace

std::string FeedbackJson(const FeedbackRecord& f, bool duplicate) {
  JsonWriter w(256);
  w.BeginObject().Key("feedback_id").String(f.feedback_id);
  w.Key("request_id").String(f.request_id);
  OptionalNumber(w, "implicit_score", f.implicit_score);
  OptionalNumber(w, "explicit_score", f.explicit_score);
  OptionalNumber(w, "comment_sentiment", f.comment_sentiment);
  w.Key("duplicate").Bool(duplicate).EndObject();
  return std::move(w).Take();
}

FeedbackApi::FeedbackApi(const FeedbackConfig& config, PredictionLog& log,
                         const ModelRepository& models, const Clock& clock)
    : config_(config),
      weights_(WeightsFrom(config)),
      log_(log),
      models_(models),
      clock_(clock),
      ids_(clock) {}

void FeedbackApi::Score(FeedbackRecord& f) const {
  f.feedback_id = ids_.Next();
  f.ts_ms = clock_.NowUnixMillis();
  if (f.comment) f.comment_sentiment = TextSentiment(models_, config_.sentiment_model, *f.comment);
  f.implicit_score = ImplicitScore(f, weights_);
  f.explicit_score = ExplicitScore(f, weights_);
}

void FeedbackApi::Register(Router& router) {
  router.Add(http::verb::post, "/v1/feedback", [this](RequestContext& c) { Post(c); });
  router.Add(http::verb::post, "/v1/feedback:batch", [this](RequestContext& c) { PostBatch(c); });
  router.Add(http::verb::get, "/v1/feedback/summary", [this](RequestContext& c) { Summary(c); });
  router.Add(http::verb::get, "/v1/feedback/timeline", [this](RequestContext& c) { Timeline(c); });
  router.Add(http::verb::get, "/v1/feedback/{feedback_id}", [this](RequestContext& c) {
    auto f = log_.GetFeedback(std::string(c.Param("feedback_id")));
    if (!f.ok()) return c.Error(f.status());
    c.Json(200, FeedbackJson(*f, false));
  });
}

void FeedbackApi::Summary(RequestContext& ctx) {
  std::string target(ctx.request.target());
  std::string model = QueryParam(target, "model").value_or("");
  int64_t since = 0;
  if (auto v = QueryParam(target, "since")) {
    auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), since);
    if (ec != std::errc() || p != v->data() + v->size() || since < 0) {
      return ctx.Error(InvalidArgument("parameter 'since' must be a time in ms since the epoch"));
    }
  }
  StatusOr<FeedbackSummary> summary = Internal("not read");
  std::vector<std::string> comments, request_ids;
  Status s = log_.Read([&](SqliteDb& db) -> Status {
    summary = SummarizeFeedback(db, model, since);
    RETURN_IF_ERROR(summary.status());
    ASSIGN_OR_RETURN(comments, RecentComments(db, model, since, kMaxTopicComments, &request_ids));
    return OkStatus();
  });
  if (!s.ok()) return ctx.Error(s);
  AddTopics(*summary, comments, models_, config_.sentiment_model, &request_ids);
  ctx.Json(200, FeedbackSummaryJson(*summary));
}

void FeedbackApi::Timeline(RequestContext& ctx) {
  std::string target(ctx.request.target());
  std::string model = QueryParam(target, "model").value_or("");
  const int64_t now = clock_.NowUnixMillis();
  auto until = QueryInt(target, "until", now + 1, 1, INT64_MAX);
  if (!until.ok()) return ctx.Error(until.status());
  auto since = QueryInt(target, "since", *until - 24 * 3600 * 1000LL, 0, INT64_MAX);
  if (!since.ok()) return ctx.Error(since.status());
  if (*since >= *until)
    return ctx.Error(InvalidArgument("parameter 'since' must be before 'until'"));
  // Default: about 60 buckets over the range, at least a second each.
  auto bucket = QueryInt(target, "bucket_ms", std::max<int64_t>(1000, (*until - *since + 59) / 60),
                         1, INT64_MAX);
  if (!bucket.ok()) return ctx.Error(bucket.status());
  StatusOr<std::vector<FeedbackBucket>> buckets = Internal("not read");
  (void)log_.Flush(std::chrono::seconds(2));  // what was acknowledged is counted
  Status s = log_.Read([&](SqliteDb& db) -> Status {
    buckets = FeedbackTimeline(db, model, *since, *until, *bucket);
    return buckets.status();
  });
  if (!s.ok()) return ctx.Error(s);
  ctx.Json(200, FeedbackTimelineJson(model, *since, *until, *bucket, *buckets));
}

void FeedbackApi::Post(RequestContext& ctx) {
  auto parsed = ParseFeedbackRequest(ctx.request.body());
  if (!parsed.ok()) return ctx.Error(parsed.status());
  Score(*parsed);
  auto deferred = ctx.Defer();
  if (!deferred) return ctx.Error(Unavailable("cannot wait for the feedback to be stored"));
  bool queued = log_.AppendFeedback(std::move(*parsed), [deferred](FeedbackOutcome out) {
    deferred->Finish([out = std::move(out)](RequestContext& c) {
      if (!out.status.ok()) return c.Error(out.status);
      c.Json(out.duplicate ? 200 : 201, FeedbackJson(out.stored, out.duplicate));
    });
  });
  if (!queued) deferred->Finish([](RequestContext& c) { Overloaded(c); });
}

void FeedbackApi::PostBatch(RequestContext& ctx) {
  auto parsed = ParseFeedbackBatch(ctx.request.body());
  if (!parsed.ok()) return ctx.Error(parsed.status());
  auto deferred = ctx.Defer();
  if (!deferred) return ctx.Error(Unavailable("cannot wait for the feedback to be stored"));
  // Every item answers once committed; the last one answers the request.
  struct Pending {
    std::mutex mu;
    std::vector<FeedbackOutcome> outcomes;
    std::atomic<size_t> left;
    std::shared_ptr<DeferredResponse> deferred;
  };
  auto pending = std::make_shared<Pending>();
  pending->outcomes.resize(parsed->size());
  pending->left = parsed->size();
  pending->deferred = deferred;
  auto finish_one = [pending](size_t i, FeedbackOutcome out) {
    {
      std::lock_guard lock(pending->mu);
      pending->outcomes[i] = std::move(out);
    }
    if (pending->left.fetch_sub(1) != 1) return;
    pending->deferred->Finish([pending](RequestContext& c) {
      JsonWriter w;
      size_t stored = 0;
      w.BeginObject().Key("results").BeginArray();
      for (const auto& o : pending->outcomes) {
        if (o.status.ok()) {
          ++stored;
          w.Raw(FeedbackJson(o.stored, o.duplicate));
        } else {
          w.BeginObject().Key("status").Uint(HttpStatusFor(o.status.code()));
          w.Key("error").String(o.status.message()).EndObject();
        }
      }
      w.EndArray().Key("stored").Uint(stored);
      w.Key("failed").Uint(pending->outcomes.size() - stored).EndObject();
      c.Json(200, std::move(w).Take());
    });
  };
  for (size_t i = 0; i < parsed->size(); ++i) {
    FeedbackRecord& f = (*parsed)[i];
    Score(f);
    if (!log_.AppendFeedback(std::move(f), [finish_one, i](FeedbackOutcome out) {
          finish_one(i, std::move(out));
        })) {
      FeedbackOutcome full;
      full.status = Unavailable("feedback queue is full; retry this item");
      finish_one(i, std::move(full));
    }
  }
}

}  // namespace closedloop
