// ModelConfig: the config.toml beside a model file in models/<name>/<version>/.
//
//   flavor = "fasttext"              # required: fasttext (xgboost, onnx later)
//   top_k = 5                        # default number of labels returned
//   labels = ["card_arrival", ...]   # optional; when given, must equal the model's labels
//   max_text_bytes = 10000           # optional per-model limit on 'text'
//   temperature = 1.7                # optional: calibrated softmax temperature (> 0)
//   oos_score = "energy"             # optional: out-of-scope score (serving/oos_score.h)
//   oos_threshold = 4.2              #   an inquiry scoring below it is out of scope
//   [categories]                     # tabular: a categorical feature's values; a
//   plan = ["basic", "pro"]          #   request's "plan": "pro" is sent as code 1
//   [batching]                       # dynamic batching knobs (used by the batcher)
//   max_batch_size = 32
//   max_queue_delay_us = 500
//   max_queue_size = 1024
//   [image]                          # an image model: input size and preprocessing
//   width = 8                        #   (serving/image_config.h)
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "serving/image_config.h"

namespace closedloop {

// The model files a version directory may hold, one per flavor's format:
// fastText (model.bin, quantized model.ftz), XGBoost (model.json, model.ubj),
// ONNX (model.onnx) and closedloop's MLP (model.mlp).
inline constexpr const char* kModelFileNames[] = {"model.bin", "model.ftz",  "model.json",
                                                  "model.ubj", "model.onnx", "model.mlp"};
inline constexpr const char* kModelFileList =
    "model.bin, model.ftz, model.json, model.ubj, model.onnx or model.mlp";

struct BatchingConfig {
  int max_batch_size = 1;  // 1: no batching
  int max_queue_delay_us = 0;
  int max_queue_size = 1024;
};

struct ModelConfig {
  std::string flavor;
  int top_k = 5;
  std::vector<std::string> labels;
  int64_t max_text_bytes = 0;  // 0: the server's serving.max_text_bytes
  double temperature = 1.0;    // probabilities = softmax(logits / temperature)
  std::string oos_score;       // max_probability | max_logit | energy ("" with no threshold)
  std::optional<double> oos_threshold;  // in-scope score below this: out of scope
  BatchingConfig batching;
  std::map<std::string, std::vector<std::string>> categories;  // feature -> values by code
  std::optional<ImageConfig> image;                            // set: an image model
};

// The code of `value` among a categorical feature's values, or NaN (missing) for
// a value the model never saw.
float CategoryCode(const std::vector<std::string>& values, std::string_view value);

StatusOr<ModelConfig> ParseModelConfig(std::string_view toml_text, std::string_view source_name);
StatusOr<ModelConfig> LoadModelConfig(const std::string& path);
// Writes a config.toml that ParseModelConfig reads back unchanged.
std::string RenderModelConfig(const ModelConfig& config);

}  // namespace closedloop
