// The model side of image predictions: which input takes the images, the batch
// tensor of prepared images (serving/image_input.h), and the class scores and
// penultimate-layer embeddings read back from the model's outputs. Shared by
// POST /v1/predict, /v1/inference and the OIP routes.
// Thread safety: pure functions over immutable backends.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "serving/backend.h"
#include "serving/image_config.h"
#include "serving/image_input.h"
#include "serving/tensor.h"

namespace closedloop {

// Checked when a version loads: the named input and outputs exist, the input's
// declared shape fits the configured size and layout (-1 matches anything), and
// the model has labels.
Status CheckImageModel(const ImageConfig& c, const Backend& b);

// config.input, else the model's first input.
std::string ImageInputName(const ImageConfig& c, const Backend& b);

// The images stacked along the batch dimension (ImageTensorShape).
Tensor ImageBatchTensor(const std::vector<const PreparedImage*>& images, const ImageConfig& c,
                        const Backend& b);

struct ImageOutputs {
  std::vector<std::vector<float>> probabilities;  // rows x labels (softmaxed when configured)
  std::vector<std::vector<float>> embeddings;     // rows x width; empty without embedding_output
};

// `rows`: the batch's size. InvalidArgument when an output is missing or too small.
StatusOr<ImageOutputs> ReadImageOutputs(const std::vector<Tensor>& outputs, const ImageConfig& c,
                                        const Backend& b, size_t rows);

// Labels in descending probability, at most k of them.
LabelScores TopLabels(const std::vector<float>& probabilities, size_t k);

}  // namespace closedloop
