// Confidence calibration by temperature scaling (Guo et al., 2017): one scalar T
// divides a classifier's logits, p_T = softmax(log p / T), fitted to minimize the
// negative log-likelihood on held-out data. T > 1 softens over-confident models.
// Expected calibration error (ECE): confidence of the top label against accuracy
// in equal-width bins, weighted by bin size. Pure functions, thread-safe.
#pragma once

#include <vector>

namespace closedloop {

// `probs[i]` is a full probability vector; `labels[i]` the index of the true class.
double FitTemperature(const std::vector<std::vector<float>>& probs, const std::vector<int>& labels);
std::vector<float> ApplyTemperature(const std::vector<float>& probs, double temperature);
double ExpectedCalibrationError(const std::vector<std::vector<float>>& probs,
                                const std::vector<int>& labels, int bins = 15);

}  // namespace closedloop
