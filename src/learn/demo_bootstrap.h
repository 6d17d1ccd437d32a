// The support demo that `closedloop up` serves on an empty data dir: trains the
// "support-intent" fastText model from the shipped Banking77 data
// (<examples_dir>/data/train.csv, validated on test.csv) into
// <repository>/support-intent/1 and points the alias `champion` at it.
// Does nothing when the repository already holds any model. The training run is
// logged (experiment "support-intent") in the tracking store at `tracking_db`.
#pragma once

#include <string>

#include "core/status.h"

namespace closedloop {

Status EnsureDemoModels(const std::string& repository, const std::string& examples_dir,
                        const std::string& data_dir);

}  // namespace closedloop
