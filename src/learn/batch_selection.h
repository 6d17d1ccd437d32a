// Which candidates of a pool go to people for labelling, as one batch:
//   1. a random share of the batch, drawn uniformly from the whole pool (each such
//      item's propensity = draws / pool size), for unbiased estimates;
//   2. the rest by informativeness: the top `batch * diversity_pool` candidates by
//      score, thinned by k-center greedy on their embeddings (cosine distance;
//      seeded with the best-scored candidate and the random draws) so a batch is
//      not a set of near-duplicates; without embeddings or diversity, the top
//      scores. These are chosen deterministically from the pool: propensity 1.
// Pure computation; thread-safe on distinct inputs.
#pragma once

#include <cstddef>
#include <random>
#include <string>
#include <vector>

#include "learn/uncertainty_sampling.h"

namespace closedloop {

struct SelectionCandidate {
  double score = 0;              // InformativenessScore (higher: more worth a label)
  std::vector<float> embedding;  // e.g. the sentence vector; empty: none
};

struct SelectionOptions {
  SelectionStrategy strategy = SelectionStrategy::kMargin;
  size_t batch = 20;
  double random_share = 0.1;  // of the batch; kRandom makes it 1
  bool diversity = true;
  double diversity_pool = 4;  // candidates per pick that k-center chooses among (>= 1)
};

struct SelectedItem {
  size_t index = 0;      // into the candidates
  std::string strategy;  // the strategy's name, "random", or "<strategy>+diversity"
  double score = 0;
  double propensity = 1;  // probability of this item being selected from the pool
};

std::vector<SelectedItem> SelectBatch(const std::vector<SelectionCandidate>& pool,
                                      const SelectionOptions& options, std::mt19937_64& rng);

// k-center greedy: `k` more indices of `candidates` (into `points`), each the one
// farthest (cosine distance) from every point chosen so far (`chosen`, indices into
// `points`; the first pick is candidates[0] when `chosen` is empty).
std::vector<size_t> KCenterGreedy(const std::vector<std::vector<float>>& points,
                                  const std::vector<size_t>& candidates,
                                  const std::vector<size_t>& chosen, size_t k);

}  // namespace closedloop
