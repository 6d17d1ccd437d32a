#include "learn/profile_builder.h"

#include <algorithm>
#include <cmath>

namespace closedloop {

StatusOr<ReferenceProfile> BuildTextProfile(const Backend& model,
                                            const std::vector<std::string>& texts,
                                            const std::vector<std::string>& labels, size_t max_rows,
                                            size_t max_vectors) {
  ReferenceProfile p;
  const size_t n = texts.size();
  if (n == 0) return FailedPrecondition("no rows to profile");
  const size_t take = std::min(n, max_rows);
  const size_t vector_every = std::max<size_t>(1, take / std::max<size_t>(1, max_vectors));
  size_t labelled = 0, correct = 0;
  for (size_t k = 0; k < take; ++k) {
    size_t i = k * n / take;  // evenly spaced
    const std::string& text = texts[i];
    auto scores = model.PredictText(text, 1);
    if (!scores.ok() || scores->empty()) continue;
    ++p.rows;
    p.text_length.push_back(static_cast<double>(text.size()));
    p.confidence.push_back(scores->front().p);
    p.predicted[model.labels()[static_cast<size_t>(scores->front().index)]] += 1;
    if (i < labels.size() && !labels[i].empty()) {
      p.truth[labels[i]] += 1;
      ++labelled;
      correct += labels[i] == model.labels()[static_cast<size_t>(scores->front().index)] ? 1 : 0;
    }
    if (auto oov = model.OovRate(text); oov.ok()) p.oov_rate.push_back(*oov);
    if (k % vector_every == 0 && p.vectors.size() < max_vectors) {
      if (auto v = model.SentenceVector(text); v.ok()) p.vectors.push_back(std::move(v).value());
    }
  }
  if (labelled > 0) p.accuracy = static_cast<double>(correct) / static_cast<double>(labelled);
  return p;
}

StatusOr<ReferenceProfile> BuildTabularProfile(
    const std::vector<std::string>& names,
    const std::map<std::string, std::vector<std::string>>& categories, const std::vector<float>& x,
    const std::vector<std::string>& classes, const std::vector<std::vector<float>>& probs,
    const std::vector<int>& truth, size_t max_rows) {
  const size_t n = probs.size(), nf = names.size();
  if (n == 0 || nf == 0) return FailedPrecondition("no rows to profile");
  if (x.size() != n * nf) return Internal("feature matrix does not match the scored rows");
  ReferenceProfile p;
  const size_t take = std::min(n, max_rows);
  p.features.resize(nf);
  for (size_t f = 0; f < nf; ++f) {
    p.features[f].name = names[f];
    p.features[f].categorical = categories.count(names[f]) > 0;
  }
  std::vector<size_t> missing(nf, 0);
  size_t labelled = 0, correct = 0;
  for (size_t k = 0; k < take; ++k) {
    size_t i = k * n / take;  // evenly spaced
    ++p.rows;
    const auto& row = probs[i];
    size_t best = static_cast<size_t>(std::max_element(row.begin(), row.end()) - row.begin());
    if (best < classes.size()) p.predicted[classes[best]] += 1;
    p.confidence.push_back(row.empty() ? 0 : row[best]);
    if (i < truth.size() && truth[i] >= 0 && static_cast<size_t>(truth[i]) < classes.size()) {
      p.truth[classes[static_cast<size_t>(truth[i])]] += 1;
      ++labelled;
      correct += static_cast<size_t>(truth[i]) == best ? 1 : 0;
    }
    for (size_t f = 0; f < nf; ++f) {
      float v = x[i * nf + f];
      FeatureProfile& fp = p.features[f];
      if (std::isnan(v)) {
        ++missing[f];
        continue;
      }
      if (!fp.categorical) {
        fp.sample.push_back(v);
        continue;
      }
      const auto& values = categories.at(fp.name);
      auto code = static_cast<size_t>(v);
      fp.counts[v >= 0 && code < values.size() ? values[code] : std::string("(unknown)")] += 1;
    }
  }
  for (size_t f = 0; f < nf; ++f) {
    p.features[f].missing_share = static_cast<double>(missing[f]) / static_cast<double>(p.rows);
  }
  if (labelled > 0) p.accuracy = static_cast<double>(correct) / static_cast<double>(labelled);
  return p;
}

}  // namespace closedloop
