// Records a finished training in the tracking store as an MLflow run: params
// (every hyper-parameter and column), per-epoch/round curves (step = epoch or
// round), final metrics of the validation and test evaluations, and tags for
// lineage: the data's SHA-256 and row count, the seed, the model's path and
// flavor, closedloop's version and git commit, the library versions.
#pragma once

#include <string>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "learn/image_trainer.h"
#include "learn/tabular_trainer.h"
#include "learn/text_trainer.h"
#include "tracking/tracking_store.h"

namespace closedloop {

struct TrainingRunRecord {
  std::string source;    // e.g. "closedloop train text"
  std::string run_name;  // the model directory
  double train_seconds = 0;
  KeyValues params;
  std::vector<Metric> metrics;  // timestamps are set when logged
  KeyValues tags;               // lineage tags
};

TrainingRunRecord TextRunRecord(const TextTrainOptions& o, const TextTrainResult& r);
TrainingRunRecord TabularRunRecord(const TabularTrainOptions& o, const TabularTrainResult& r);
TrainingRunRecord ImageRunRecord(const ImageTrainOptions& o, const ImageTrainResult& r);

// Creates `experiment` if needed; returns the run id.
StatusOr<std::string> LogTrainingRun(TrackingStore& store, const std::string& experiment,
                                     TrainingRunRecord record, const Clock& clock);

}  // namespace closedloop
