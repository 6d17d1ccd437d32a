// Generates a model version's card (markdown): intended use, data and lineage
// (training run, data SHA-256, rows, parameters, code version), metrics overall
// and per class (from the version's metrics.json), calibration, and known
// limitations (the flavor's, plus the classes the evaluation shows are weak).
// Pure function, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "tracking/tracking_store.h"

namespace closedloop {

struct ModelCardInput {
  std::string name;
  int64_t version = 0;
  std::string flavor;
  std::string description;  // the intended use, when the registrant gave one
  std::string source;
  std::string model_sha256;
  int64_t model_size = 0;
  int64_t created_ms = 0;
  double temperature = 1.0;
  std::optional<Run> run;    // the training run, when known
  std::string metrics_json;  // {"validation": report, "test": report} or "{}"
};

std::string RenderModelCard(const ModelCardInput& in);

}  // namespace closedloop
