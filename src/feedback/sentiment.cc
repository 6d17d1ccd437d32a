#include "feedback/sentiment.h"

namespace closedloop {

std::optional<double> TextSentiment(const ModelRepository& models, const std::string& model,
                                    std::string_view text) {
  if (model.empty() || text.empty()) return std::nullopt;
  auto mv = models.Resolve(model, "");
  if (!mv.ok()) return std::nullopt;
  auto scores = (*mv)->backend->PredictText(text, 0);
  if (!scores.ok()) return std::nullopt;
  double s = 0;
  const auto& labels = (*mv)->backend->labels();
  for (const auto& l : *scores) {
    const std::string& name = labels[static_cast<size_t>(l.index)];
    if (name == "positive") s += l.p;
    if (name == "negative") s -= l.p;
  }
  return s;
}

}  // namespace closedloop
