#include "learn/profile_builder.h"

namespace closedloop {

StatusOr<TextProfile> BuildTextProfile(const Backend& model, const std::vector<std::string>& texts,
                                       const std::vector<std::string>& labels, size_t max_rows,
                                       size_t max_vectors) {
  TextProfile p;
  const size_t n = texts.size();
  if (n == 0) return FailedPrecondition("no rows to profile");
  const size_t take = std::min(n, max_rows);
  const size_t vector_every = std::max<size_t>(1, take / std::max<size_t>(1, max_vectors));
  for (size_t k = 0; k < take; ++k) {
    size_t i = k * n / take;  // evenly spaced
    const std::string& text = texts[i];
    auto scores = model.PredictText(text, 1);
    if (!scores.ok() || scores->empty()) continue;
    ++p.rows;
    p.text_length.push_back(static_cast<double>(text.size()));
    p.confidence.push_back(scores->front().p);
    p.predicted[model.labels()[static_cast<size_t>(scores->front().index)]] += 1;
    if (i < labels.size() && !labels[i].empty()) p.truth[labels[i]] += 1;
    if (auto oov = model.OovRate(text); oov.ok()) p.oov_rate.push_back(*oov);
    if (k % vector_every == 0 && p.vectors.size() < max_vectors) {
      if (auto v = model.SentenceVector(text); v.ok()) p.vectors.push_back(std::move(v).value());
    }
  }
  return p;
}

}  // namespace closedloop
