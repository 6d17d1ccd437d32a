#include "serving/predict_request.h"

#include <cmath>

#include <simdjson.h>

namespace closedloop {
namespace {

bool IsBlank(std::string_view s) {
  for (char c : s) {
    if (c != ' ' && c != '\t' && c != '\n' && c != '\r') return false;
  }
  return true;
}

std::string_view JsonTypeName(simdjson::dom::element_type t) {
  using T = simdjson::dom::element_type;
  switch (t) {
    case T::ARRAY:
      return "an array";
    case T::OBJECT:
      return "an object";
    case T::INT64:
    case T::UINT64:
    case T::DOUBLE:
      return "a number";
    case T::STRING:
      return "a string";
    case T::BOOL:
      return "a boolean";
    case T::NULL_VALUE:
      return "null";
  }
  return "unknown";
}

}  // namespace

StatusOr<PredictRequest> ParsePredictRequest(std::string_view body, size_t max_text_bytes) {
  if (IsBlank(body)) return InvalidArgument("request body is empty; expected a JSON object");
  thread_local simdjson::dom::parser parser;
  thread_local std::string padded;
  padded.assign(body);
  padded.resize(body.size() + simdjson::SIMDJSON_PADDING);
  simdjson::dom::element doc;
  auto error = parser.parse(padded.data(), body.size(), false).get(doc);
  if (error) {
    return InvalidArgument(std::string("malformed JSON: ") + simdjson::error_message(error));
  }
  simdjson::dom::object obj;
  if (doc.get(obj)) {
    return InvalidArgument("request body must be a JSON object, not " +
                           std::string(JsonTypeName(doc.type())));
  }
  PredictRequest req;
  bool has_model = false, has_text = false;
  for (auto field : obj) {
    std::string_view key = field.key;
    auto value = field.value;
    if (key == "model") {
      std::string_view s;
      if (value.get(s)) return InvalidArgument("field 'model' must be a string");
      if (s.empty()) return InvalidArgument("field 'model' must not be empty");
      req.model = s;
      has_model = true;
    } else if (key == "version") {
      std::string_view s;
      int64_t n = 0;
      if (!value.get(s)) {
        req.version = s;
      } else if (!value.get(n)) {
        if (n <= 0) return InvalidArgument("field 'version' must be a positive integer");
        req.version = std::to_string(n);
      } else if (!value.is_null()) {
        return InvalidArgument("field 'version' must be a string or an integer");
      }
    } else if (key == "text") {
      std::string_view s;
      if (value.get(s)) {
        return InvalidArgument("field 'text' must be a string, not " +
                               std::string(JsonTypeName(value.type())));
      }
      if (IsBlank(s)) return InvalidArgument("field 'text' must not be empty");
      if (s.size() > max_text_bytes) {
        return InvalidArgument("field 'text' is " + std::to_string(s.size()) +
                               " bytes; the limit is " + std::to_string(max_text_bytes));
      }
      req.text = s;
      has_text = true;
    } else if (key == "features") {
      simdjson::dom::object fo;
      if (value.get(fo)) {
        return InvalidArgument("field 'features' must be an object of feature names to numbers");
      }
      for (auto f : fo) {
        double v = 0;
        std::string_view category;
        if (!f.value.get(category)) {
          req.category_features.emplace_back(std::string(f.key), std::string(category));
          continue;
        }
        if (f.value.is_null()) {
          v = std::nan("");
        } else if (f.value.is_int64()) {
          v = static_cast<double>(f.value.get_int64().value_unsafe());
        } else if (f.value.get(v)) {
          return InvalidArgument("feature '" + std::string(f.key) +
                                 "' must be a number, a string (categorical) or null");
        }
        req.features.emplace_back(std::string(f.key), v);
      }
      req.has_features = true;
    } else if (key == "explain") {
      if (value.get(req.explain)) return InvalidArgument("field 'explain' must be a boolean");
    } else if (key == "uncertainty") {
      if (value.get(req.uncertainty)) {
        return InvalidArgument("field 'uncertainty' must be a boolean");
      }
    } else if (key == "top_k") {
      int64_t n = 0;
      if (value.get(n) || n < 1 || n > 1000) {
        return InvalidArgument("field 'top_k' must be an integer between 1 and 1000");
      }
      req.top_k = static_cast<int>(n);
    } else {
      return InvalidArgument(
          "unknown field '" + std::string(key) +
          "' (expected: model, version, text, features, explain, uncertainty, top_k)");
    }
  }
  if (!has_model) return InvalidArgument("missing field 'model'");
  if (has_text && req.has_features) {
    return InvalidArgument("give either 'text' or 'features', not both");
  }
  if (!has_text && !req.has_features) return InvalidArgument("missing field 'text'");
  return req;
}

}  // namespace closedloop
