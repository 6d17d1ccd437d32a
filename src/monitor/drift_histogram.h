// The reference and the current window of one drift signal side by side, as the
// console draws them: shares per bar, each side summing to 1 (0 bars when a side
// is empty). Pure functions, thread-safe.
#pragma once

#include <cstddef>
#include <map>
#include <string>
#include <vector>

namespace closedloop {

struct DriftHistogram {
  std::vector<double> edges;            // numbers: bars + 1 ascending edges; empty for categories
  std::vector<std::string> categories;  // categories: one name per bar
  std::vector<double> reference, current;  // share of each side per bar
};

// `bins` equal-width bars over [min, max] of both samples together (one bar when
// every value is the same). Empty histogram when both samples are empty.
DriftHistogram NumericHistogram(const std::vector<double>& reference,
                                const std::vector<double>& current, size_t bins = 20);
// The `max_bars` categories with the largest share over both sides (by name on
// ties); the rest is summed into a last bar "(other)".
DriftHistogram CategoricalHistogram(const std::map<std::string, double>& reference,
                                    const std::map<std::string, double>& current,
                                    size_t max_bars = 20);

}  // namespace closedloop
