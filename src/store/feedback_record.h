// One piece of feedback about one served prediction (table `feedback` in
// predictions.db, beside the prediction it is about). Every signal is optional;
// the scores are computed by the feedback API before the record is stored.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "core/status.h"

namespace closedloop {

struct FeedbackRecord {
  std::string feedback_id;    // ULID
  std::string request_id;     // the prediction it is about
  int64_t ts_ms = 0;          // Unix milliseconds
  std::optional<int> rating;  // 1-5
  std::optional<std::string> comment;
  std::optional<int> nps;            // 0-10
  std::optional<std::string> label;  // the right answer, from a person
  std::optional<bool> click;
  std::optional<int64_t> dwell_ms;
  std::optional<double> scroll_depth;  // 0-1
  std::optional<std::string> idempotency_key;
  std::optional<double> comment_sentiment;  // S in [-1, 1]
  std::optional<double> implicit_score;     // [0, 1]
  std::optional<double> explicit_score;     // [-0.3, 1] with the default weights
};

// What the log writer reports once the feedback's transaction committed (or failed):
// `stored` is the record as stored — for a repeated idempotency key, the first one.
struct FeedbackOutcome {
  Status status;  // NotFound: no prediction with that request_id
  FeedbackRecord stored;
  bool duplicate = false;
};
// Called on the log writer's thread, after the commit: must not block.
using FeedbackCallback = std::function<void(FeedbackOutcome)>;

}  // namespace closedloop
