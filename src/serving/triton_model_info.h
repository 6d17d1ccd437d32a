// Triton's model configuration and statistics extensions, rendered from what the
// server holds for a loaded model version:
//   ModelConfigJson  GET /v2/models/{m}[/versions/{v}]/config  (Triton's JSON shape:
//                    name, platform, backend, version_policy, max_batch_size,
//                    input/output with data_type and dims, dynamic_batching)
//   ModelStatsJson   GET /v2/models[/{m}[/versions/{v}]]/stats  {"model_stats": [...]}
// Dims follow Triton's rule: a model that batches (max_batch_size > 0) lists its
// inputs and outputs without the batch dimension; one with max_batch_size 0 lists
// the full shape (-1 for a variable dimension).
// Thread safety: pure functions over immutable versions (stats are atomics).
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "serving/model_repository.h"

namespace closedloop {

// "TYPE_FP32", "TYPE_STRING" (BYTES), ...
std::string_view TritonTypeName(DataType t);

std::string ModelConfigJson(const ModelVersion& mv, const VersionPolicy& policy);
std::string ModelStatsJson(const std::vector<std::shared_ptr<const ModelVersion>>& versions);

}  // namespace closedloop
