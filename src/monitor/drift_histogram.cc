#include "monitor/drift_histogram.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace closedloop {

namespace {

void Normalize(std::vector<double>& v) {
  double total = 0;
  for (double x : v) total += x;
  if (total <= 0) return;
  for (double& x : v) x /= total;
}

}  // namespace

DriftHistogram NumericHistogram(const std::vector<double>& reference,
                                const std::vector<double>& current, size_t bins) {
  DriftHistogram h;
  double lo = std::numeric_limits<double>::infinity(), hi = -lo;
  for (const auto* side : {&reference, &current}) {
    for (double x : *side) {
      if (!std::isfinite(x)) continue;
      lo = std::min(lo, x);
      hi = std::max(hi, x);
    }
  }
  if (!(lo <= hi)) return h;
  if (bins == 0 || hi == lo) bins = 1;
  const double width = hi > lo ? (hi - lo) / static_cast<double>(bins) : 1;
  for (size_t i = 0; i <= bins; ++i) {
    h.edges.push_back(i == bins && hi > lo ? hi : lo + width * static_cast<double>(i));
  }
  h.reference.assign(bins, 0);
  h.current.assign(bins, 0);
  auto fill = [&](const std::vector<double>& side, std::vector<double>& out) {
    for (double x : side) {
      if (!std::isfinite(x)) continue;
      auto i = static_cast<size_t>((x - lo) / width);
      out[std::min(i, bins - 1)] += 1;
    }
    Normalize(out);
  };
  fill(reference, h.reference);
  fill(current, h.current);
  return h;
}

DriftHistogram CategoricalHistogram(const std::map<std::string, double>& reference,
                                    const std::map<std::string, double>& current, size_t max_bars) {
  DriftHistogram h;
  double nr = 0, nc = 0;
  for (const auto& [k, v] : reference) nr += v;
  for (const auto& [k, v] : current) nc += v;
  std::map<std::string, double> weight;  // mean share over the two sides
  for (const auto& [k, v] : reference) weight[k] += nr > 0 ? v / nr : 0;
  for (const auto& [k, v] : current) weight[k] += nc > 0 ? v / nc : 0;
  std::vector<std::pair<std::string, double>> order(weight.begin(), weight.end());
  std::stable_sort(order.begin(), order.end(),
                   [](const auto& a, const auto& b) { return a.second > b.second; });
  if (max_bars == 0) max_bars = 1;
  const bool other = order.size() > max_bars;
  const size_t named = other ? max_bars - 1 : order.size();
  auto share = [](const std::map<std::string, double>& side, const std::string& k, double n) {
    auto it = side.find(k);
    return it == side.end() || n <= 0 ? 0.0 : it->second / n;
  };
  for (size_t i = 0; i < named; ++i) {
    h.categories.push_back(order[i].first);
    h.reference.push_back(share(reference, order[i].first, nr));
    h.current.push_back(share(current, order[i].first, nc));
  }
  if (other) {
    double r = 0, c = 0;
    for (size_t i = named; i < order.size(); ++i) {
      r += share(reference, order[i].first, nr);
      c += share(current, order[i].first, nc);
    }
    h.categories.push_back("(other)");
    h.reference.push_back(r);
    h.current.push_back(c);
  }
  return h;
}

}  // namespace closedloop
