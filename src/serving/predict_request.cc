#include "serving/predict_request.h"

#include <cmath>

#include <simdjson.h>

#include "core/base64.h"

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

// Flattens a nested array of numbers (at most 3 levels, every level rectangular,
// numbers only at the innermost level) into `values`, recording each level's size
// in `dims` on its first visit; `leaf_depth` is the level of the numbers (-1 until
// the first one is seen).
Status FlattenImage(simdjson::dom::element e, size_t depth, std::vector<int64_t>& dims,
                    int& leaf_depth, std::vector<float>& values) {
  simdjson::dom::array arr;
  if (e.get(arr)) {
    return InvalidArgument("field 'image' must be a nested array of numbers ([H][W][C])");
  }
  if (depth >= 3) return InvalidArgument("field 'image' is nested deeper than [H][W][C]");
  if (leaf_depth >= 0 && static_cast<int>(depth) > leaf_depth) {
    return InvalidArgument("field 'image' mixes numbers and arrays at one level");
  }
  const int64_t n = static_cast<int64_t>(arr.size());
  if (n == 0) return InvalidArgument("field 'image' has an empty dimension");
  if (dims.size() == depth) {
    dims.push_back(n);
  } else if (dims[depth] != n) {
    return InvalidArgument("field 'image' is not rectangular: dimension " + std::to_string(depth) +
                           " has both " + std::to_string(dims[depth]) + " and " +
                           std::to_string(n) + " elements");
  }
  for (auto child : arr) {
    if (child.is_array()) {
      RETURN_IF_ERROR(FlattenImage(child, depth + 1, dims, leaf_depth, values));
      continue;
    }
    if (leaf_depth < 0) leaf_depth = static_cast<int>(depth);
    if (leaf_depth != static_cast<int>(depth) || dims.size() != depth + 1) {
      return InvalidArgument("field 'image' mixes numbers and arrays at one level");
    }
    double v = 0;
    if (child.is_int64()) {
      v = static_cast<double>(child.get_int64().value_unsafe());
    } else if (child.get(v)) {
      return InvalidArgument("field 'image' holds " + std::string(JsonTypeName(child.type())) +
                             " at element " + std::to_string(values.size()) +
                             "; every pixel must be a number");
    }
    const float f = static_cast<float>(v);
    if (!std::isfinite(f)) {
      return InvalidArgument("field 'image' element " + std::to_string(values.size()) +
                             " is not a finite FP32 number");
    }
    values.push_back(f);
  }
  return OkStatus();
}

}  // namespace

StatusOr<PredictRequest> ParsePredictRequest(std::string_view body, size_t max_text_bytes,
                                             bool require_model) {
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
    } else if (key == "image") {
      if (req.has_image) return InvalidArgument("give either 'image' or 'image_b64', not both");
      int leaf_depth = -1;
      RETURN_IF_ERROR(FlattenImage(value, 0, req.image_dims, leaf_depth, req.image));
      if (req.image_dims.size() < 2) {
        return InvalidArgument("field 'image' must have 2 or 3 dimensions ([H][W][C])");
      }
      req.has_image = true;
    } else if (key == "image_b64") {
      if (req.has_image) return InvalidArgument("give either 'image' or 'image_b64', not both");
      std::string_view s;
      if (value.get(s)) return InvalidArgument("field 'image_b64' must be a base64 string");
      if (s.starts_with("data:")) {  // data:image/png;base64,....
        size_t comma = s.find(',');
        if (comma == std::string_view::npos ||
            s.substr(0, comma).find(";base64") == std::string_view::npos) {
          return InvalidArgument("field 'image_b64' is a data: URL without ';base64,'");
        }
        s.remove_prefix(comma + 1);
      }
      auto bytes = Base64Decode(s);
      if (!bytes.ok()) return InvalidArgument("field 'image_b64': " + bytes.status().message());
      if (bytes->empty()) return InvalidArgument("field 'image_b64' must not be empty");
      req.image_bytes = std::move(bytes).value();
      req.has_image = true;
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
          "' (expected: model, version, text, features, image, image_b64, explain, "
          "uncertainty, top_k)");
    }
  }
  if (!has_model && require_model) return InvalidArgument("missing field 'model'");
  if (int(has_text) + int(req.has_features) + int(req.has_image) > 1) {
    return InvalidArgument("give one of 'text', 'features' or 'image', not several");
  }
  if (!has_text && !req.has_features && !req.has_image) {
    return InvalidArgument("missing field 'text' (or 'features', 'image', 'image_b64')");
  }
  return req;
}

}  // namespace closedloop
