#include "feedback/scores.h"

#include <cmath>

namespace closedloop {

std::optional<double> ImplicitScore(const FeedbackRecord& f, const ScoreWeights& w) {
  double sum = 0, weight = 0;
  if (f.click) sum += w.click * (*f.click ? 1 : 0), weight += w.click;
  if (f.dwell_ms) {
    double t = static_cast<double>(*f.dwell_ms) / 1000;
    sum += w.dwell * (1 - std::exp(-w.dwell_rate * t));
    weight += w.dwell;
  }
  if (f.scroll_depth) sum += w.scroll * *f.scroll_depth, weight += w.scroll;
  if (weight <= 0) return std::nullopt;
  return sum / weight * (w.click + w.dwell + w.scroll);
}

std::optional<double> ExplicitScore(const FeedbackRecord& f, const ScoreWeights& w) {
  double sum = 0, weight = 0;
  if (f.rating) sum += w.rating * (*f.rating - 1) / 4.0, weight += w.rating;
  if (f.comment && f.comment_sentiment) {
    sum += w.comment * *f.comment_sentiment;
    weight += w.comment;
  }
  if (f.nps) sum += w.nps * *f.nps / 10.0, weight += w.nps;
  if (weight <= 0) return std::nullopt;
  return sum / weight * (w.rating + w.comment + w.nps);
}

std::optional<double> NetPromoterScore(const std::vector<int>& answers) {
  if (answers.empty()) return std::nullopt;
  double promoters = 0, detractors = 0;
  for (int a : answers) {
    if (a >= 9) promoters += 1;
    if (a <= 6) detractors += 1;
  }
  auto n = static_cast<double>(answers.size());
  return 100 * (promoters - detractors) / n;
}

}  // namespace closedloop
