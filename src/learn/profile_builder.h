// Builds a text model's reference profile (monitor/text_profile.h) from labelled
// held-out rows scored by the model as the server scores them: at most
// `max_rows` rows (an evenly spaced sample) and `max_vectors` sentence vectors.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "monitor/text_profile.h"
#include "serving/backend.h"

namespace closedloop {

StatusOr<TextProfile> BuildTextProfile(const Backend& model, const std::vector<std::string>& texts,
                                       const std::vector<std::string>& labels,
                                       size_t max_rows = 2000, size_t max_vectors = 300);

}  // namespace closedloop
