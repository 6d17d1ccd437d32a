// Does an exported ONNX model compute what the native model computes? Runs both
// on the same texts: the native model's probabilities, and the ONNX backend
// (OpenCV DNN) on the features the native model derives from each text, in
// batches. Reports the largest absolute difference of any probability, how often
// the top labels agree, and accuracy of each when gold labels are given.
// Pure function; the backends must be safe to call from this thread.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "serving/backend.h"

namespace closedloop {

using TextVector = std::function<StatusOr<std::vector<float>>(std::string_view)>;

struct OnnxAgreementReport {
  int64_t rows = 0;     // texts compared
  int64_t skipped = 0;  // texts the native model cannot score (no known n-grams)
  double max_abs_diff = 0;
  double mean_abs_diff = 0;                              // over every probability of every row
  double top_label_agreement = 0;                        // share of rows with the same argmax
  std::optional<double> native_accuracy, onnx_accuracy;  // with gold labels
};

// `native`: probabilities in label order; `features`: the ONNX input row for the
// text; `onnx` takes one FP32 input [N, width] and returns probabilities first.
// `gold` (optional, same length as `texts`) are label names; `labels` the
// model's label names by index.
StatusOr<OnnxAgreementReport> CompareOnnxWithNative(const TextVector& native,
                                                    const TextVector& features, const Backend& onnx,
                                                    const std::vector<std::string>& texts,
                                                    const std::vector<std::string>* gold,
                                                    const std::vector<std::string>& labels,
                                                    int batch_size = 64);

}  // namespace closedloop
