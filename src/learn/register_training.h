// After a training into a staging directory: log the run, register the
// directory as the next version of `model` (moved into the repository; the
// registered model is created if needed), point the run's model.path at the
// version's final place, and optionally set an alias on it. On failure the
// staging directory is left for the caller to remove and no version exists.
#pragma once

#include <string>

#include "core/status.h"
#include "learn/training_run_log.h"
#include "tracking/model_registry.h"

namespace closedloop {

struct RegisteredTraining {
  std::string run_id;
  ModelVersionInfo version;
};

StatusOr<RegisteredTraining> LogAndRegister(TrackingStore& runs, ModelRegistry& registry,
                                            const std::string& model,
                                            const std::string& staging_dir,
                                            TrainingRunRecord record,
                                            const std::string& description,
                                            const std::string& alias, const Clock& clock);

}  // namespace closedloop
