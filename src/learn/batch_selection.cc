#include "learn/batch_selection.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace closedloop {

namespace {

std::vector<float> Normalized(const std::vector<float>& v) {
  double norm = 0;
  for (float x : v) norm += static_cast<double>(x) * x;
  norm = std::sqrt(norm);
  std::vector<float> out(v);
  if (norm > 0) {
    for (float& x : out) x = static_cast<float>(x / norm);
  }
  return out;
}

double CosineDistance(const std::vector<float>& a, const std::vector<float>& b) {
  double dot = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) dot += static_cast<double>(a[i]) * b[i];
  return 1.0 - dot;
}

}  // namespace

std::vector<size_t> KCenterGreedy(const std::vector<std::vector<float>>& points,
                                  const std::vector<size_t>& candidates,
                                  const std::vector<size_t>& chosen, size_t k) {
  std::vector<size_t> picked;
  if (candidates.empty() || k == 0) return picked;
  std::vector<std::vector<float>> unit(points.size());
  for (size_t c : candidates) unit[c] = Normalized(points[c]);
  for (size_t c : chosen) unit[c] = Normalized(points[c]);
  // min_dist[i]: distance of candidates[i] to the nearest chosen point.
  std::vector<double> min_dist(candidates.size(), std::numeric_limits<double>::infinity());
  std::vector<bool> taken(candidates.size(), false);
  auto absorb = [&](size_t point) {
    for (size_t i = 0; i < candidates.size(); ++i) {
      min_dist[i] = std::min(min_dist[i], CosineDistance(unit[candidates[i]], unit[point]));
    }
  };
  for (size_t c : chosen) absorb(c);
  while (picked.size() < k && picked.size() < candidates.size()) {
    size_t best = candidates.size();
    if (chosen.empty() && picked.empty()) {
      best = 0;
    } else {
      double best_d = -1;
      for (size_t i = 0; i < candidates.size(); ++i) {
        if (!taken[i] && min_dist[i] > best_d) {
          best_d = min_dist[i];
          best = i;
        }
      }
    }
    if (best == candidates.size()) break;
    taken[best] = true;
    picked.push_back(candidates[best]);
    absorb(candidates[best]);
  }
  return picked;
}

std::vector<SelectedItem> SelectBatch(const std::vector<SelectionCandidate>& pool,
                                      const SelectionOptions& options, std::mt19937_64& rng) {
  std::vector<SelectedItem> out;
  const size_t n = pool.size();
  const size_t batch = std::min(options.batch, n);
  if (batch == 0) return out;
  const bool all_random = options.strategy == SelectionStrategy::kRandom;
  size_t n_random =
      all_random ? batch
                 : static_cast<size_t>(std::llround(static_cast<double>(batch) *
                                                    std::clamp(options.random_share, 0.0, 1.0)));
  n_random = std::min(n_random, batch);

  std::vector<size_t> order(n);
  std::iota(order.begin(), order.end(), 0);
  std::vector<bool> used(n, false);
  // Partial Fisher-Yates: the first n_random of `order` are a uniform sample.
  for (size_t i = 0; i < n_random; ++i) {
    std::uniform_int_distribution<size_t> pick(i, n - 1);
    std::swap(order[i], order[pick(rng)]);
    used[order[i]] = true;
    out.push_back({order[i], "random", pool[order[i]].score,
                   static_cast<double>(n_random) / static_cast<double>(n)});
  }
  const size_t rest = batch - n_random;
  if (rest == 0) return out;

  std::vector<size_t> ranked;
  for (size_t i = 0; i < n; ++i) {
    if (!used[i]) ranked.push_back(i);
  }
  std::stable_sort(ranked.begin(), ranked.end(),
                   [&](size_t a, size_t b) { return pool[a].score > pool[b].score; });
  const std::string name(SelectionStrategyName(options.strategy));
  bool have_embeddings = std::all_of(ranked.begin(), ranked.end(),
                                     [&](size_t i) { return !pool[i].embedding.empty(); });
  if (options.diversity && have_embeddings) {
    const size_t top = std::min(
        ranked.size(), static_cast<size_t>(std::ceil(static_cast<double>(rest) *
                                                     std::max(1.0, options.diversity_pool))));
    ranked.resize(top);
    std::vector<std::vector<float>> points(n);
    for (size_t i : ranked) points[i] = pool[i].embedding;
    std::vector<size_t> seeds;
    for (const SelectedItem& r : out) {
      if (!pool[r.index].embedding.empty()) {
        points[r.index] = pool[r.index].embedding;
        seeds.push_back(r.index);
      }
    }
    // The best-scored candidate always goes in; k-center spreads the rest.
    std::vector<size_t> picks = {ranked.front()};
    seeds.push_back(ranked.front());
    std::vector<size_t> others(ranked.begin() + 1, ranked.end());
    for (size_t i : KCenterGreedy(points, others, seeds, rest - 1)) picks.push_back(i);
    for (size_t i : picks) out.push_back({i, name + "+diversity", pool[i].score, 1.0});
    return out;
  }
  for (size_t j = 0; j < rest; ++j) out.push_back({ranked[j], name, pool[ranked[j]].score, 1.0});
  return out;
}

}  // namespace closedloop
