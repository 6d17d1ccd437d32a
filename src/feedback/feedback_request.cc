#include "feedback/feedback_request.h"

#include <cmath>
#include <string>

#include <simdjson.h>

namespace closedloop {

namespace {

simdjson::dom::parser& Parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

Status Bad(const std::string& where, const std::string& message) {
  return InvalidArgument(where + message);
}

StatusOr<FeedbackRecord> FromObject(simdjson::dom::object obj, const std::string& where) {
  FeedbackRecord f;
  bool has_request_id = false;
  for (auto field : obj) {
    std::string_view key = field.key;
    simdjson::dom::element v = field.value;
    std::string name(key);
    if (key == "request_id") {
      std::string_view s;
      if (v.get(s) || s.empty() || s.size() > 64) {
        return Bad(where, "field 'request_id' must be a non-empty string (the prediction's id)");
      }
      f.request_id = std::string(s);
      has_request_id = true;
    } else if (key == "rating" || key == "nps") {
      int64_t n = 0;
      double d = 0;
      if (v.get(n) && (v.get(d) || std::floor(d) != d)) {
        return Bad(where, "field '" + name + "' must be an integer");
      }
      if (!v.get(d)) n = static_cast<int64_t>(d);
      int64_t lo = key == "rating" ? 1 : 0, hi = key == "rating" ? 5 : 10;
      if (n < lo || n > hi) {
        return Bad(where, "field '" + name + "' must be from " + std::to_string(lo) + " to " +
                              std::to_string(hi));
      }
      (key == "rating" ? f.rating : f.nps) = static_cast<int>(n);
    } else if (key == "comment" || key == "label" || key == "idempotency_key") {
      std::string_view s;
      if (v.get(s)) return Bad(where, "field '" + name + "' must be a string");
      size_t limit = key == "comment" ? kMaxCommentBytes : 200;
      if (s.size() > limit) {
        return Bad(where,
                   "field '" + name + "' is longer than " + std::to_string(limit) + " bytes");
      }
      if (key != "comment" && s.empty()) return Bad(where, "field '" + name + "' is empty");
      if (key == "comment") f.comment = std::string(s);
      if (key == "label") f.label = std::string(s);
      if (key == "idempotency_key") f.idempotency_key = std::string(s);
    } else if (key == "click") {
      bool b = false;
      if (v.get(b)) return Bad(where, "field 'click' must be a boolean");
      f.click = b;
    } else if (key == "dwell_ms") {
      int64_t n = 0;
      if (v.get(n) || n < 0 || n > 86'400'000LL * 7) {
        return Bad(where, "field 'dwell_ms' must be an integer from 0 to 604800000");
      }
      f.dwell_ms = n;
    } else if (key == "scroll_depth") {
      double d = 0;
      int64_t n = 0;
      if (!v.get(n)) {
        d = static_cast<double>(n);
      } else if (v.get(d)) {
        return Bad(where, "field 'scroll_depth' must be a number");
      }
      if (!(d >= 0 && d <= 1)) return Bad(where, "field 'scroll_depth' must be from 0 to 1");
      f.scroll_depth = d;
    } else {
      return Bad(where, "unknown field '" + name +
                            "' (expected: request_id, rating, comment, nps, label, click, "
                            "dwell_ms, scroll_depth, idempotency_key)");
    }
  }
  if (!has_request_id) return Bad(where, "missing field 'request_id'");
  if (!f.rating && !f.comment && !f.nps && !f.label && !f.click && !f.dwell_ms && !f.scroll_depth) {
    return Bad(where,
               "no feedback signal: give at least one of rating, comment, nps, label, click, "
               "dwell_ms, scroll_depth");
  }
  return f;
}

}  // namespace

StatusOr<FeedbackRecord> ParseFeedbackRequest(std::string_view body) {
  simdjson::dom::element doc;
  if (auto e = Parser().parse(body.data(), body.size()).get(doc)) {
    return InvalidArgument(std::string("malformed JSON: ") + simdjson::error_message(e));
  }
  simdjson::dom::object obj;
  if (doc.get(obj)) return InvalidArgument("request body must be a JSON object");
  return FromObject(obj, "");
}

StatusOr<std::vector<FeedbackRecord>> ParseFeedbackBatch(std::string_view body) {
  simdjson::dom::element doc;
  if (auto e = Parser().parse(body.data(), body.size()).get(doc)) {
    return InvalidArgument(std::string("malformed JSON: ") + simdjson::error_message(e));
  }
  simdjson::dom::array items;
  if (doc["feedback"].get(items)) {
    return InvalidArgument("field 'feedback' must be an array of feedback objects");
  }
  simdjson::dom::object obj;
  if (doc.get(obj) || obj.size() != 1) {
    return InvalidArgument("the batch body is {\"feedback\": [...]} and nothing else");
  }
  if (items.size() == 0 || items.size() > kMaxFeedbackBatch) {
    return InvalidArgument("field 'feedback' must hold 1 to " + std::to_string(kMaxFeedbackBatch) +
                           " items");
  }
  std::vector<FeedbackRecord> out;
  size_t i = 0;
  for (auto item : items) {
    std::string where = "feedback[" + std::to_string(i++) + "]: ";
    simdjson::dom::object o;
    if (item.get(o)) return InvalidArgument(where + "must be an object");
    ASSIGN_OR_RETURN(FeedbackRecord f, FromObject(o, where));
    out.push_back(std::move(f));
  }
  return out;
}

}  // namespace closedloop
