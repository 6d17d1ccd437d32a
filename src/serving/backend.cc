#include "serving/backend.h"

namespace closedloop {

StatusOr<LabelScores> Backend::PredictText(std::string_view, int) const {
  return InvalidArgument("models of flavor '" + std::string(flavor()) + "' do not take 'text'");
}

StatusOr<std::vector<float>> Backend::SentenceVector(std::string_view) const {
  return InvalidArgument("models of flavor '" + std::string(flavor()) +
                         "' have no sentence vectors");
}

}  // namespace closedloop
