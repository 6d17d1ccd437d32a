// Feedback scores (weights from config [feedback]):
//   implicit f = w1·click + w2·(1 − e^(−λ·t)) + w3·scroll,  t = dwell in seconds
//   explicit   = α·(rating − 1)/4 + β·S(comment) + γ·nps/10,  S in [−1, 1]
// Only the signals present count: the weights of the missing ones are left out and
// the rest renormalized, so "click only" scores 1 and not 0.4. No signal of a kind:
// no score of that kind. NPS over a window = %promoters (9–10) − %detractors (0–6).
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "store/feedback_record.h"

namespace closedloop {

struct ScoreWeights {
  double click = 0.4;        // w1
  double dwell = 0.4;        // w2
  double scroll = 0.2;       // w3
  double dwell_rate = 0.05;  // λ, per second
  double rating = 0.5;       // α
  double comment = 0.3;      // β
  double nps = 0.2;          // γ
};

std::optional<double> ImplicitScore(const FeedbackRecord& f, const ScoreWeights& w);
// `f.comment_sentiment` must already be set when there is a comment.
std::optional<double> ExplicitScore(const FeedbackRecord& f, const ScoreWeights& w);
// In [−100, 100]; nullopt without any answer.
std::optional<double> NetPromoterScore(const std::vector<int>& answers);

}  // namespace closedloop
