// The JSON bodies of the labeling API (learn/labeling_api.h), parsed and checked.
// Errors are InvalidArgument naming the field. Thread-safe (a parser per call).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "learn/labeling_selector.h"

namespace closedloop {

// POST /v1/labeling/tasks/{id}/annotations
//   {"label": "card_arrival"} | {"answer": "skip" | "none" | "oos"}
//   optional: "answer": "label" (with label), "duration_ms": N >= 0,
//             "annotator": "name" (only without authentication)
struct AnnotationRequest {
  std::string answer;  // label | skip | none | oos
  std::optional<std::string> label;
  std::optional<int64_t> duration_ms;
  std::optional<std::string> annotator;
};
StatusOr<AnnotationRequest> ParseAnnotationRequest(std::string_view body);

// POST /v1/labeling/select {"model", "strategy"?, "batch"?, "random_share"?, "diversity"?}
StatusOr<SelectionRequest> ParseSelectionRequest(std::string_view body);

// POST /v1/labeling/gold {"model", "items": [{"text", "label"}, ...]} (1 to 10000 items)
struct GoldItem {
  std::string text, label;
};
struct GoldRequest {
  std::string model;
  std::vector<GoldItem> items;
};
StatusOr<GoldRequest> ParseGoldRequest(std::string_view body);

}  // namespace closedloop
