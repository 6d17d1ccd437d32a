// How informative a label for one input would be, from the model's predicted
// distribution (or a committee's): the scores of uncertainty sampling and
// query-by-committee. Every score is "higher = more worth labelling".
//   least_confidence  1 - max p
//   margin            1 - (p1 - p2)            (p1, p2: the two largest)
//   entropy           -sum p log p, in nats
//   qbc               vote entropy of the members' top labels plus the mean KL
//                     divergence of each member from the consensus (the mean
//                     distribution), in nats; needs >= 2 members
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace closedloop {

enum class SelectionStrategy { kLeastConfidence, kMargin, kEntropy, kQbc, kRandom };

// "least_confidence" | "margin" | "entropy" | "qbc" | "random"; InvalidArgument naming `field`.
StatusOr<SelectionStrategy> ParseSelectionStrategy(std::string_view name, std::string_view field);
std::string_view SelectionStrategyName(SelectionStrategy s);

double LeastConfidence(const std::vector<float>& p);
double Margin(const std::vector<float>& p);
double Entropy(const std::vector<float>& p);

struct CommitteeDisagreement {
  double vote_entropy = 0;  // entropy of the members' top-label votes
  double mean_kl = 0;       // mean KL(member || consensus)
  double score() const { return vote_entropy + mean_kl; }
};
// `members`: one distribution per member, all of one length.
CommitteeDisagreement Disagreement(const std::vector<std::vector<float>>& members);

// The score of `s` for one input: `p` is the served distribution, `members` the
// committee (used by kQbc only; InvalidArgument with fewer than 2). kRandom scores 0.
StatusOr<double> InformativenessScore(SelectionStrategy s, const std::vector<float>& p,
                                      const std::vector<std::vector<float>>& members);

}  // namespace closedloop
