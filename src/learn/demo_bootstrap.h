// The support demo that `closedloop up` serves on an empty data dir: trains
//   support-intent     fastText on Banking77 (<examples_dir>/data/train.csv,
//                      tested on test.csv), 77 intents;
//   comment-sentiment  fastText on the Sentiment Labelled Sentences
//                      (<examples_dir>/data/sentiment/*.txt), negative/positive,
//                      20% held out as its test set;
//   digit-images       `train image` on the 8x8 digits of Debian's python3-sklearn
//                      (kDigitsFile; skipped when the package is missing), an
//                      ONNX image model served on /v1/inference;
// logs each training run, registers each as a model version and points the
// alias `champion` at it. A model that is already registered, or whose directory
// already exists in the repository, is left as it is (a second start reuses it).
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "tracking/model_registry.h"
#include "tracking/tracking_store.h"

namespace closedloop {

inline constexpr const char* kDigitsFile =
    "/usr/lib/python3/dist-packages/sklearn/datasets/data/digits.csv.gz";

struct DemoModel {
  std::string name;
  bool trained = false;  // false: reused what was there
};

StatusOr<std::vector<DemoModel>> EnsureDemoModels(ModelRegistry& registry, TrackingStore& runs,
                                                  const std::string& examples_dir,
                                                  const std::string& data_dir);

}  // namespace closedloop
