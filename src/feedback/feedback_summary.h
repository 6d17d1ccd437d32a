// What the feedback says, over the predictions of one model (or all) since a time:
// counts, mean implicit and explicit scores, the rating histogram, NPS, click-through
// rate, escalation rate, and how often people's labels agree with the model.
// Reads predictions.db (predictions ⋈ feedback, escalations) with one connection;
// thread-safe as long as the connection is not shared.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "feedback/topics.h"
#include "serving/model_repository.h"
#include "store/sqlite_db.h"

namespace closedloop {

struct FeedbackSummary {
  std::string model;  // empty: every model
  int64_t since_ms = 0;
  int64_t predictions = 0;
  int64_t feedback = 0;
  std::optional<double> mean_implicit;
  std::optional<double> mean_explicit;
  std::array<int64_t, 5> ratings{};  // count of rating 1..5
  std::optional<double> mean_rating;
  int64_t nps_answers = 0;
  std::optional<double> nps;  // −100..100
  int64_t click_signals = 0;
  std::optional<double> click_through_rate;
  int64_t escalations = 0;
  std::optional<double> escalation_rate;  // escalations / predictions
  int64_t human_labels = 0;
  std::optional<double> label_agreement;  // share of human labels equal to the model's
  std::optional<TopicModel> topics;       // of the comments, when an embedding model is served
};

StatusOr<FeedbackSummary> SummarizeFeedback(SqliteDb& db, const std::string& model,
                                            int64_t since_ms);
// The comments of the same feedback, newest first, at most `limit`; with
// `request_ids`, the prediction each comment is about, in the same order.
StatusOr<std::vector<std::string>> RecentComments(SqliteDb& db, const std::string& model,
                                                  int64_t since_ms, size_t limit,
                                                  std::vector<std::string>* request_ids = nullptr);
// Clusters the comments on the sentence vectors of `embedding_model` (served in
// `models`); leaves `s.topics` empty when that model is not served. With
// `request_ids` (parallel to `comments`), each topic lists the predictions behind
// its comments (at most kTopicRequestIds, nearest the centre first).
inline constexpr size_t kTopicRequestIds = 50;
void AddTopics(FeedbackSummary& s, const std::vector<std::string>& comments,
               const ModelRepository& models, const std::string& embedding_model,
               const std::vector<std::string>* request_ids = nullptr);

std::string FeedbackSummaryJson(const FeedbackSummary& s);
// A few lines for a terminal (`closedloop feedback report`).
std::string FeedbackSummaryText(const FeedbackSummary& s);

}  // namespace closedloop
