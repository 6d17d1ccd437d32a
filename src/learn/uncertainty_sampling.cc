#include "learn/uncertainty_sampling.h"

#include <algorithm>
#include <cmath>
#include <map>

namespace closedloop {

StatusOr<SelectionStrategy> ParseSelectionStrategy(std::string_view name, std::string_view field) {
  if (name == "least_confidence") return SelectionStrategy::kLeastConfidence;
  if (name == "margin") return SelectionStrategy::kMargin;
  if (name == "entropy") return SelectionStrategy::kEntropy;
  if (name == "qbc") return SelectionStrategy::kQbc;
  if (name == "random") return SelectionStrategy::kRandom;
  return InvalidArgument("field '" + std::string(field) + "': '" + std::string(name) +
                         "' is not a strategy (least_confidence, margin, entropy, qbc, random)");
}

std::string_view SelectionStrategyName(SelectionStrategy s) {
  switch (s) {
    case SelectionStrategy::kLeastConfidence:
      return "least_confidence";
    case SelectionStrategy::kMargin:
      return "margin";
    case SelectionStrategy::kEntropy:
      return "entropy";
    case SelectionStrategy::kQbc:
      return "qbc";
    case SelectionStrategy::kRandom:
      return "random";
  }
  return "random";
}

double LeastConfidence(const std::vector<float>& p) {
  if (p.empty()) return 0;
  return 1.0 - *std::max_element(p.begin(), p.end());
}

double Margin(const std::vector<float>& p) {
  float first = 0, second = 0;
  for (float v : p) {
    if (v > first) {
      second = first;
      first = v;
    } else if (v > second) {
      second = v;
    }
  }
  return 1.0 - (static_cast<double>(first) - second);
}

double Entropy(const std::vector<float>& p) {
  double h = 0;
  for (float v : p) {
    if (v > 0) h -= v * std::log(static_cast<double>(v));
  }
  return h;
}

CommitteeDisagreement Disagreement(const std::vector<std::vector<float>>& members) {
  CommitteeDisagreement d;
  if (members.size() < 2) return d;
  const size_t k = members.front().size();
  std::vector<double> consensus(k, 0);
  std::map<size_t, int> votes;
  for (const auto& m : members) {
    for (size_t j = 0; j < k && j < m.size(); ++j) consensus[j] += m[j];
    ++votes[static_cast<size_t>(std::max_element(m.begin(), m.end()) - m.begin())];
  }
  const double n = static_cast<double>(members.size());
  for (double& c : consensus) c /= n;
  for (const auto& [label, count] : votes) {
    double share = count / n;
    d.vote_entropy -= share * std::log(share);
  }
  for (const auto& m : members) {
    double kl = 0;
    for (size_t j = 0; j < k && j < m.size(); ++j) {
      if (m[j] > 0 && consensus[j] > 0) kl += m[j] * std::log(m[j] / consensus[j]);
    }
    d.mean_kl += std::max(0.0, kl) / n;
  }
  return d;
}

StatusOr<double> InformativenessScore(SelectionStrategy s, const std::vector<float>& p,
                                      const std::vector<std::vector<float>>& members) {
  switch (s) {
    case SelectionStrategy::kLeastConfidence:
      return LeastConfidence(p);
    case SelectionStrategy::kMargin:
      return Margin(p);
    case SelectionStrategy::kEntropy:
      return Entropy(p);
    case SelectionStrategy::kQbc:
      if (members.size() < 2) {
        return InvalidArgument(
            "strategy qbc needs a committee of at least 2 members: an ensemble model (train text "
            "--model mlp --ensemble N) or a second served version of the model");
      }
      return Disagreement(members).score();
    case SelectionStrategy::kRandom:
      return 0.0;
  }
  return 0.0;
}

}  // namespace closedloop
