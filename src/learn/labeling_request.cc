#include "learn/labeling_request.h"

#include <simdjson.h>

namespace closedloop {

namespace {

constexpr size_t kMaxLabelBytes = 200;
constexpr size_t kMaxTextBytes = 10000;

StatusOr<simdjson::dom::object> ParseObject(simdjson::dom::parser& parser, std::string_view body) {
  simdjson::dom::element doc;
  if (parser.parse(body.data(), body.size()).get(doc)) {
    return InvalidArgument("the body is not valid JSON");
  }
  simdjson::dom::object obj;
  if (doc.get_object().get(obj)) return InvalidArgument("the body must be a JSON object");
  return obj;
}

StatusOr<std::string> StringField(simdjson::dom::element v, std::string_view name,
                                  size_t max_bytes) {
  std::string_view s;
  if (v.get_string().get(s))
    return InvalidArgument("field '" + std::string(name) + "' must be a string");
  if (s.empty()) return InvalidArgument("field '" + std::string(name) + "' must not be empty");
  if (s.size() > max_bytes) {
    return InvalidArgument("field '" + std::string(name) + "' is longer than " +
                           std::to_string(max_bytes) + " bytes");
  }
  return std::string(s);
}

Status Unknown(std::string_view key, std::string_view expected) {
  return InvalidArgument("unknown field '" + std::string(key) +
                         "' (expected: " + std::string(expected) + ")");
}

}  // namespace

StatusOr<AnnotationRequest> ParseAnnotationRequest(std::string_view body) {
  simdjson::dom::parser parser;
  ASSIGN_OR_RETURN(auto obj, ParseObject(parser, body));
  AnnotationRequest r;
  std::optional<std::string> answer;
  for (auto [key, value] : obj) {
    if (key == "label") {
      ASSIGN_OR_RETURN(r.label, StringField(value, "label", kMaxLabelBytes));
    } else if (key == "answer") {
      ASSIGN_OR_RETURN(answer, StringField(value, "answer", 16));
    } else if (key == "annotator") {
      ASSIGN_OR_RETURN(r.annotator, StringField(value, "annotator", kMaxLabelBytes));
    } else if (key == "duration_ms") {
      int64_t d = 0;
      if (value.get_int64().get(d) || d < 0) {
        return InvalidArgument("field 'duration_ms' must be an integer >= 0");
      }
      r.duration_ms = d;
    } else {
      return Unknown(key, "label, answer, duration_ms, annotator");
    }
  }
  r.answer = answer.value_or(r.label ? "label" : "");
  if (r.answer.empty()) {
    return InvalidArgument("missing field 'label' (or 'answer': skip, none or oos)");
  }
  if (r.answer != "label" && r.answer != "skip" && r.answer != "none" && r.answer != "oos") {
    return InvalidArgument("field 'answer' must be label, skip, none or oos");
  }
  if (r.answer == "label" && !r.label) return InvalidArgument("missing field 'label'");
  if (r.answer != "label" && r.label) {
    return InvalidArgument("field 'label' goes with answer 'label' only, not '" + r.answer + "'");
  }
  return r;
}

StatusOr<SelectionRequest> ParseSelectionRequest(std::string_view body) {
  simdjson::dom::parser parser;
  ASSIGN_OR_RETURN(auto obj, ParseObject(parser, body));
  SelectionRequest r;
  for (auto [key, value] : obj) {
    if (key == "model") {
      ASSIGN_OR_RETURN(r.model, StringField(value, "model", kMaxLabelBytes));
    } else if (key == "strategy") {
      ASSIGN_OR_RETURN(std::string s, StringField(value, "strategy", 32));
      ASSIGN_OR_RETURN(r.strategy, ParseSelectionStrategy(s, "strategy"));
    } else if (key == "batch") {
      int64_t b = 0;
      if (value.get_int64().get(b) || b < 1 || b > 10000) {
        return InvalidArgument("field 'batch' must be an integer from 1 to 10000");
      }
      r.batch = b;
    } else if (key == "random_share") {
      double d = 0;
      if (value.get_double().get(d) || !(d >= 0 && d <= 1)) {
        return InvalidArgument("field 'random_share' must be a number from 0 to 1");
      }
      r.random_share = d;
    } else if (key == "diversity") {
      bool b = false;
      if (value.get_bool().get(b)) return InvalidArgument("field 'diversity' must be a boolean");
      r.diversity = b;
    } else {
      return Unknown(key, "model, strategy, batch, random_share, diversity");
    }
  }
  if (r.model.empty()) return InvalidArgument("missing field 'model'");
  return r;
}

StatusOr<GoldRequest> ParseGoldRequest(std::string_view body) {
  simdjson::dom::parser parser;
  ASSIGN_OR_RETURN(auto obj, ParseObject(parser, body));
  GoldRequest r;
  bool have_items = false;
  for (auto [key, value] : obj) {
    if (key == "model") {
      ASSIGN_OR_RETURN(r.model, StringField(value, "model", kMaxLabelBytes));
    } else if (key == "items") {
      simdjson::dom::array items;
      if (value.get_array().get(items)) return InvalidArgument("field 'items' must be an array");
      have_items = true;
      size_t i = 0;
      for (simdjson::dom::element item : items) {
        const std::string where = "items[" + std::to_string(i++) + "]";
        simdjson::dom::object o;
        if (item.get_object().get(o))
          return InvalidArgument("field '" + where + "' must be an object");
        GoldItem g;
        for (auto [k, v] : o) {
          if (k == "text") {
            ASSIGN_OR_RETURN(g.text, StringField(v, where + ".text", kMaxTextBytes));
          } else if (k == "label") {
            ASSIGN_OR_RETURN(g.label, StringField(v, where + ".label", kMaxLabelBytes));
          } else {
            return InvalidArgument("unknown field '" + where + "." + std::string(k) +
                                   "' (expected: text, label)");
          }
        }
        if (g.text.empty()) return InvalidArgument("missing field '" + where + ".text'");
        if (g.label.empty()) return InvalidArgument("missing field '" + where + ".label'");
        r.items.push_back(std::move(g));
      }
    } else {
      return Unknown(key, "model, items");
    }
  }
  if (r.model.empty()) return InvalidArgument("missing field 'model'");
  if (!have_items || r.items.empty()) return InvalidArgument("missing field 'items' (1 to 10000)");
  if (r.items.size() > 10000) return InvalidArgument("field 'items' has more than 10000 items");
  return r;
}

}  // namespace closedloop
