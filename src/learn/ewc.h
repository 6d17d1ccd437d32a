// Elastic weight consolidation (Kirkpatrick et al., 2017): the diagonal of the
// empirical Fisher information of an MLP member on the data it was trained on,
//   F_i = mean over rows of (d log p(y | x) / d theta_i)^2,
// which says how much each weight mattered to that data. Fine-tuning adds
// (lambda / 2) * sum_i F_i (theta_i - theta*_i)^2 to its loss (learn/mlp_trainer.h).
// The Fisher is returned in the shape of a member (w1, b1, w2, b2); dropout is
// off while it is computed. Pure computation, thread-safe.
#pragma once

#include <vector>

#include "serving/mlp_model.h"

namespace closedloop {

// `member` must have float W1 (not quantized); `x`, `y` the rows (y < labels).
MlpMember DiagonalFisher(const MlpModel& view, const MlpMember& member,
                         const std::vector<SparseVector>& x, const std::vector<int>& y);

// A copy of `m` with W1 as floats (w1_q * scale), for training from it.
MlpMember Dequantized(const MlpMember& m);

}  // namespace closedloop
