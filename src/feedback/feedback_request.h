// Parsing and validation of POST /v1/feedback bodies:
//   {"request_id": "...", "rating"?: 1..5, "comment"?: "...", "nps"?: 0..10,
//    "label"?: "...", "click"?: bool, "dwell_ms"?: int >= 0, "scroll_depth"?: 0..1,
//    "idempotency_key"?: "..."}
// and of the batch form {"feedback": [<item>, ...]} (1..1000 items). At least one
// signal is required; every error is InvalidArgument naming the field (and, in a
// batch, the item's index). Total: any bytes give a result or an error.
// Thread safety: uses a thread-local simdjson parser; safe from any thread.
#pragma once

#include <string_view>
#include <vector>

#include "core/status.h"
#include "store/feedback_record.h"

namespace closedloop {

inline constexpr size_t kMaxCommentBytes = 10000;
inline constexpr size_t kMaxFeedbackBatch = 1000;

StatusOr<FeedbackRecord> ParseFeedbackRequest(std::string_view body);
StatusOr<std::vector<FeedbackRecord>> ParseFeedbackBatch(std::string_view body);

}  // namespace closedloop
