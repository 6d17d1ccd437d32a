// Records a finished training in the tracking store as an MLflow run: params
// (every hyper-parameter and column), per-epoch training loss (metric train_loss,
// step = epoch), final metrics, and tags for lineage: the data's SHA-256 and row
// count, the seed, closedloop's version and git commit, the library versions.
#pragma once

#include <string>

#include "core/status.h"
#include "learn/text_trainer.h"
#include "tracking/tracking_store.h"

namespace closedloop {

// Creates `experiment` if needed; returns the run id.
StatusOr<std::string> LogTextTrainingRun(TrackingStore& store, const std::string& experiment,
                                         const TextTrainOptions& options,
                                         const TextTrainResult& result, const Clock& clock);

}  // namespace closedloop
