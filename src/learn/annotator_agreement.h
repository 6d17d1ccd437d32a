// Chance-corrected agreement between annotators, over an AnswerSet
// (learn/label_aggregation.h). Skipped items are simply not in the set.
//   Cohen's κ of two annotators on the items both answered:
//     (p_o - p_e) / (1 - p_e), p_e = sum_k p_a(k) p_b(k).
//   Fleiss' κ over the items with >= 2 answers (the number of answers may vary
//     by item): P_i = sum_k n_ik (n_ik - 1) / (n_i (n_i - 1)), P_e = sum_k p_k²;
//     per label k: 1 - sum_i n_ik (n_i - n_ik) / (n_i - 1) / (sum_i n_i · p_k (1 - p_k)).
// κ is NaN when undefined (no shared items, or chance agreement is 1).
// Pure computation; thread-safe.
#pragma once

#include <cstddef>
#include <vector>

#include "learn/label_aggregation.h"

namespace closedloop {

struct PairKappa {
  double kappa = 0;
  size_t items = 0;  // answered by both
};
PairKappa CohenKappa(const AnswerSet& set, size_t a, size_t b);

struct FleissResult {
  double kappa = 0;
  size_t items = 0;               // with >= 2 answers
  std::vector<double> per_label;  // by class; NaN for labels never given
};
FleissResult FleissKappa(const AnswerSet& set);

}  // namespace closedloop
