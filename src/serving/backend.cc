#include "serving/backend.h"

namespace closedloop {

StatusOr<LabelScores> Backend::PredictText(std::string_view, int) const {
  return InvalidArgument("models of flavor '" + std::string(flavor()) + "' do not take 'text'");
}

StatusOr<std::vector<float>> Backend::SentenceVector(std::string_view) const {
  return InvalidArgument("models of flavor '" + std::string(flavor()) +
                         "' have no sentence vectors");
}

StatusOr<PredictiveUncertainty> Backend::TextUncertainty(std::string_view, int) const {
  return InvalidArgument("field 'uncertainty': models of flavor '" + std::string(flavor()) +
                         "' do not estimate uncertainty (train with --model mlp)");
}

StatusOr<std::vector<std::vector<float>>> Backend::TextCommittee(std::string_view) const {
  return InvalidArgument("models of flavor '" + std::string(flavor()) +
                         "' have no ensemble members (train text --model mlp --ensemble N)");
}

StatusOr<std::vector<float>> Backend::TextLogits(std::string_view) const {
  return InvalidArgument("models of flavor '" + std::string(flavor()) +
                         "' do not expose logits (fastText with softmax loss and mlp do)");
}

StatusOr<double> Backend::OovRate(std::string_view) const {
  return InvalidArgument("models of flavor '" + std::string(flavor()) + "' have no vocabulary");
}

const std::vector<std::string>& Backend::feature_names() const {
  static const std::vector<std::string> kNone;
  return kNone;
}

StatusOr<TabularPrediction> Backend::PredictRow(const std::vector<float>&, bool) const {
  return InvalidArgument("models of flavor '" + std::string(flavor()) + "' do not take 'features'");
}

}  // namespace closedloop
