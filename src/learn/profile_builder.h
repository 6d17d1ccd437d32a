// Builds a text model's reference profile (monitor/reference_profile.h) from labelled
// held-out rows scored by the model as the server scores them: at most
// `max_rows` rows (an evenly spaced sample) and `max_vectors` sentence vectors.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "monitor/reference_profile.h"
#include "serving/backend.h"

namespace closedloop {

StatusOr<ReferenceProfile> BuildTextProfile(const Backend& model,
                                            const std::vector<std::string>& texts,
                                            const std::vector<std::string>& labels,
                                            size_t max_rows = 2000, size_t max_vectors = 300);

// A tabular model's profile from its scored held-out rows: `x` holds the rows'
// features row-major in `names` order (NaN = missing; a categorical feature as
// its code, an index into `categories[name]`), `probs` the model's class
// probabilities per row, `truth` the true class index per row (-1: none).
// Features keep at most `max_rows` values each (evenly spaced rows).
StatusOr<ReferenceProfile> BuildTabularProfile(
    const std::vector<std::string>& names,
    const std::map<std::string, std::vector<std::string>>& categories, const std::vector<float>& x,
    const std::vector<std::string>& classes, const std::vector<std::vector<float>>& probs,
    const std::vector<int>& truth, size_t max_rows = 2000);

}  // namespace closedloop
