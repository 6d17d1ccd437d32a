#include "serving/oos_score.h"

#include <algorithm>
#include <cmath>
#include <string>

namespace closedloop {

StatusOr<OosScoreKind> ParseOosScore(std::string_view name) {
  if (name == "max_probability") return OosScoreKind::kMaxProbability;
  if (name == "max_logit") return OosScoreKind::kMaxLogit;
  if (name == "energy") return OosScoreKind::kEnergy;
  return InvalidArgument("unknown out-of-scope score '" + std::string(name) +
                         "' (max_probability, max_logit or energy)");
}

std::string_view OosScoreName(OosScoreKind kind) {
  switch (kind) {
    case OosScoreKind::kMaxProbability:
      return "max_probability";
    case OosScoreKind::kMaxLogit:
      return "max_logit";
    case OosScoreKind::kEnergy:
      return "energy";
  }
  return "max_probability";
}

StatusOr<double> InScopeScore(const Backend& model, std::string_view text, OosScoreKind kind,
                              double temperature) {
  if (kind == OosScoreKind::kMaxProbability) {
    ASSIGN_OR_RETURN(LabelScores top, model.PredictText(text, 1));
    if (top.empty()) return InvalidArgument("field 'text' has no words to classify");
    return static_cast<double>(top.front().p);
  }
  ASSIGN_OR_RETURN(std::vector<float> z, model.TextLogits(text));
  if (z.empty()) return InvalidArgument("the model returned no logits");
  const double max = *std::max_element(z.begin(), z.end());
  if (kind == OosScoreKind::kMaxLogit) return max;
  const double t = temperature > 0 ? temperature : 1.0;
  double sum = 0;
  for (float v : z) sum += std::exp((v - max) / t);
  return max + t * std::log(sum);  // T * logsumexp(z / T), stably
}

StatusOr<std::optional<double>> ConfiguredInScopeScore(const Backend& model,
                                                       const ModelConfig& config,
                                                       std::string_view text,
                                                       double top_probability) {
  if (!config.oos_threshold) return std::optional<double>();
  ASSIGN_OR_RETURN(OosScoreKind kind, ParseOosScore(config.oos_score));
  if (kind == OosScoreKind::kMaxProbability) return std::optional<double>(top_probability);
  ASSIGN_OR_RETURN(double v, InScopeScore(model, text, kind, config.temperature));
  return std::optional<double>(v);
}

StatusOr<double> KeepThreshold(std::vector<double> scores, double keep) {
  if (scores.empty()) return InvalidArgument("no in-scope scores to fit a threshold on");
  keep = std::clamp(keep, 0.0, 1.0);
  std::sort(scores.begin(), scores.end());
  const auto i = static_cast<size_t>(std::floor((1.0 - keep) * static_cast<double>(scores.size())));
  return scores[std::min(i, scores.size() - 1)];
}

StatusOr<double> FitOosThreshold(const Backend& model, const std::vector<std::string>& texts,
                                 OosScoreKind kind, double temperature, double keep) {
  std::vector<double> scores;
  scores.reserve(texts.size());
  for (const std::string& t : texts) {
    auto v = InScopeScore(model, t, kind, temperature);
    if (v.ok()) scores.push_back(*v);
  }
  return KeepThreshold(std::move(scores), keep);
}

}  // namespace closedloop
