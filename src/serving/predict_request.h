// Parsing and validation of the /v1/predict request body:
//   {"model": "name[@alias]", "version"?: "3" | 3, "top_k"?: 1..1000,
//    "text": "..."                              (text models), or
//    "features": {"amount": 12.5, "age": null, "plan": "pro"}
//                                               (tabular models; null = missing;
//                                                strings for categorical features)
//    "image": [[[r, g, b], ...], ...]           (image models: [H][W][C], or [C][H][W]
//                                                when the model's config says so), or
//    "image_b64": "iVBORw0..."                  (a base64 PNG or JPEG; a data: URL too)
//    "explain"?: bool                           (tabular: per-feature contributions)
//    "uncertainty"?: bool                       (mlp text models: MC-dropout / ensemble)}
// Every error is InvalidArgument with a message that names the field. The parser
// is total: any byte string yields a request or an error (fuzzed).
// Thread safety: uses a thread-local simdjson parser; safe from any thread.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace closedloop {

struct PredictRequest {
  std::string model;
  std::string version;  // empty: latest (or the alias)
  std::string text;     // empty when features are given
  bool has_features = false;
  std::vector<std::pair<std::string, double>> features;  // NaN: given as null (missing)
  std::vector<std::pair<std::string, std::string>> category_features;  // given as strings
  bool has_image = false;
  std::vector<float> image;         // "image": every value, row-major as nested
  std::vector<int64_t> image_dims;  // the nesting's sizes, outermost first (2 or 3 of them)
  std::string image_bytes;          // "image_b64", decoded: the encoded file
  bool explain = false;
  bool uncertainty = false;
  int top_k = 0;  // 0: the model's configured top_k
};

// `require_model` = false (POST /v1/inference): "model" may be left out; the
// caller then picks the served model.
StatusOr<PredictRequest> ParsePredictRequest(std::string_view body, size_t max_text_bytes,
                                             bool require_model = true);

}  // namespace closedloop
