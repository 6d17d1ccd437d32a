// One label per item from several people's answers.
//   MajorityVote: the most frequent answer; a tie goes to the tied answer given
//     first (input order); confidence = its share of the item's answers.
//   DawidSkene: EM over one confusion matrix per annotator (Dawid & Skene, 1979):
//     E-step: P(true = k | answers) ∝ prior_k · prod_a confusion_a[k][answer_a];
//     M-step: priors and confusion rows from those posteriors, with additive
//     smoothing. Starts from the majority vote; stops when no posterior moves more
//     than `tolerance` or after `max_iterations`. Confidence = the posterior of the
//     chosen label. Annotators who are often right gain weight, so when three
//     people disagree the reliable one wins.
// Pure computation; thread-safe on distinct inputs.
#pragma once

#include <cstddef>
#include <vector>

namespace closedloop {

struct ItemAnswer {
  size_t item = 0;       // < items
  size_t annotator = 0;  // < annotators
  int label = 0;         // < classes
};

struct AnswerSet {
  size_t items = 0, annotators = 0, classes = 0;
  std::vector<ItemAnswer> answers;
};

struct AggregatedLabel {
  int label = -1;  // -1: the item has no answers
  double confidence = 0;
};

std::vector<AggregatedLabel> MajorityVote(const AnswerSet& set);

struct DawidSkeneOptions {
  int max_iterations = 100;
  double tolerance = 1e-6;
  double smoothing = 0.01;  // added to every confusion cell's expected count
};

struct DawidSkeneResult {
  std::vector<AggregatedLabel> labels;
  // Per annotator: the estimated share of right answers, sum_k prior_k · confusion[k][k].
  std::vector<double> annotator_accuracy;
  int iterations = 0;
};

DawidSkeneResult DawidSkene(const AnswerSet& set, const DawidSkeneOptions& options = {});

}  // namespace closedloop
