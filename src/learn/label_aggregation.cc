#include "learn/label_aggregation.h"

#include <algorithm>
#include <cmath>
#include <cstdint>

namespace closedloop {

std::vector<AggregatedLabel> MajorityVote(const AnswerSet& set) {
  std::vector<AggregatedLabel> out(set.items);
  std::vector<std::vector<int>> counts(set.items);
  std::vector<std::vector<size_t>> first_seen(set.items);  // order of first answer per label
  std::vector<int> totals(set.items, 0);
  for (size_t i = 0; i < set.answers.size(); ++i) {
    const ItemAnswer& a = set.answers[i];
    auto& c = counts[a.item];
    if (c.empty()) {
      c.assign(set.classes, 0);
      first_seen[a.item].assign(set.classes, SIZE_MAX);
    }
    ++c[static_cast<size_t>(a.label)];
    first_seen[a.item][static_cast<size_t>(a.label)] =
        std::min(first_seen[a.item][static_cast<size_t>(a.label)], i);
    ++totals[a.item];
  }
  for (size_t item = 0; item < set.items; ++item) {
    const auto& c = counts[item];
    if (c.empty()) continue;
    int best = -1;
    for (size_t k = 0; k < c.size(); ++k) {
      if (c[k] == 0) continue;
      if (best < 0 || c[k] > c[static_cast<size_t>(best)] ||
          (c[k] == c[static_cast<size_t>(best)] &&
           first_seen[item][k] < first_seen[item][static_cast<size_t>(best)])) {
        best = static_cast<int>(k);
      }
    }
    out[item] = {best, static_cast<double>(c[static_cast<size_t>(best)]) / totals[item]};
  }
  return out;
}

DawidSkeneResult DawidSkene(const AnswerSet& set, const DawidSkeneOptions& options) {
  DawidSkeneResult result;
  const size_t K = set.classes, A = set.annotators, N = set.items;
  result.annotator_accuracy.assign(A, 0);
  result.labels.assign(N, {});
  if (K == 0 || N == 0) return result;
  std::vector<std::vector<size_t>> by_item(N);
  for (size_t i = 0; i < set.answers.size(); ++i) by_item[set.answers[i].item].push_back(i);

  // T[item][k]: posterior of true label k; starts as the (soft) majority vote.
  std::vector<std::vector<double>> T(N, std::vector<double>(K, 0));
  for (size_t item = 0; item < N; ++item) {
    for (size_t i : by_item[item]) T[item][static_cast<size_t>(set.answers[i].label)] += 1;
    double sum = 0;
    for (double v : T[item]) sum += v;
    if (sum > 0) {
      for (double& v : T[item]) v /= sum;
    }
  }
  std::vector<double> prior(K);
  // confusion[a][k * K + l] = P(annotator a answers l | true k)
  std::vector<std::vector<double>> confusion(A, std::vector<double>(K * K));
  std::vector<double> log_post(K);
  for (int iter = 1; iter <= options.max_iterations; ++iter) {
    result.iterations = iter;
    // M-step.
    std::fill(prior.begin(), prior.end(), 0);
    size_t answered = 0;
    for (size_t item = 0; item < N; ++item) {
      if (by_item[item].empty()) continue;
      ++answered;
      for (size_t k = 0; k < K; ++k) prior[k] += T[item][k];
    }
    for (double& p : prior) p = (p + options.smoothing) / (answered + options.smoothing * K);
    for (auto& c : confusion) std::fill(c.begin(), c.end(), options.smoothing);
    for (const ItemAnswer& a : set.answers) {
      for (size_t k = 0; k < K; ++k) {
        confusion[a.annotator][k * K + static_cast<size_t>(a.label)] += T[a.item][k];
      }
    }
    for (auto& c : confusion) {
      for (size_t k = 0; k < K; ++k) {
        double row = 0;
        for (size_t l = 0; l < K; ++l) row += c[k * K + l];
        for (size_t l = 0; l < K; ++l) c[k * K + l] /= row;
      }
    }
    // E-step.
    double moved = 0;
    for (size_t item = 0; item < N; ++item) {
      if (by_item[item].empty()) continue;
      for (size_t k = 0; k < K; ++k) {
        log_post[k] = std::log(prior[k]);
        for (size_t i : by_item[item]) {
          const ItemAnswer& a = set.answers[i];
          log_post[k] += std::log(confusion[a.annotator][k * K + static_cast<size_t>(a.label)]);
        }
      }
      double top = *std::max_element(log_post.begin(), log_post.end());
      double sum = 0;
      for (size_t k = 0; k < K; ++k) sum += std::exp(log_post[k] - top);
      for (size_t k = 0; k < K; ++k) {
        double v = std::exp(log_post[k] - top) / sum;
        moved = std::max(moved, std::abs(v - T[item][k]));
        T[item][k] = v;
      }
    }
    if (moved < options.tolerance) break;
  }
  for (size_t item = 0; item < N; ++item) {
    if (by_item[item].empty()) continue;
    size_t best =
        static_cast<size_t>(std::max_element(T[item].begin(), T[item].end()) - T[item].begin());
    result.labels[item] = {static_cast<int>(best), T[item][best]};
  }
  for (size_t a = 0; a < A; ++a) {
    double acc = 0;
    for (size_t k = 0; k < K; ++k) acc += prior[k] * confusion[a][k * K + k];
    result.annotator_accuracy[a] = acc;
  }
  return result;
}

}  // namespace closedloop
