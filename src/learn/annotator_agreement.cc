#include "learn/annotator_agreement.h"

#include <cmath>
#include <limits>
#include <map>

namespace closedloop {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
}

PairKappa CohenKappa(const AnswerSet& set, size_t a, size_t b) {
  std::map<size_t, int> of_a, of_b;
  for (const ItemAnswer& x : set.answers) {
    if (x.annotator == a) of_a[x.item] = x.label;
    if (x.annotator == b) of_b[x.item] = x.label;
  }
  std::vector<double> pa(set.classes, 0), pb(set.classes, 0);
  PairKappa out;
  double agree = 0;
  for (const auto& [item, la] : of_a) {
    auto it = of_b.find(item);
    if (it == of_b.end()) continue;
    ++out.items;
    pa[static_cast<size_t>(la)] += 1;
    pb[static_cast<size_t>(it->second)] += 1;
    if (la == it->second) agree += 1;
  }
  if (out.items == 0) {
    out.kappa = kNaN;
    return out;
  }
  const double n = static_cast<double>(out.items);
  double pe = 0;
  for (size_t k = 0; k < set.classes; ++k) pe += (pa[k] / n) * (pb[k] / n);
  const double po = agree / n;
  out.kappa = pe >= 1 ? kNaN : (po - pe) / (1 - pe);
  return out;
}

FleissResult FleissKappa(const AnswerSet& set) {
  FleissResult out;
  out.per_label.assign(set.classes, kNaN);
  std::vector<std::map<int, int>> counts(set.items);
  for (const ItemAnswer& x : set.answers) ++counts[x.item][x.label];
  std::vector<double> label_total(set.classes, 0);
  double answers = 0, p_sum = 0;
  for (const auto& c : counts) {
    int n = 0;
    for (const auto& [k, v] : c) n += v;
    if (n < 2) continue;
    ++out.items;
    double agree = 0;
    for (const auto& [k, v] : c) {
      agree += static_cast<double>(v) * (v - 1);
      label_total[static_cast<size_t>(k)] += v;
    }
    p_sum += agree / (static_cast<double>(n) * (n - 1));
    answers += n;
  }
  if (out.items == 0) {
    out.kappa = kNaN;
    return out;
  }
  double pe = 0;
  std::vector<double> p(set.classes, 0);
  for (size_t k = 0; k < set.classes; ++k) {
    p[k] = label_total[k] / answers;
    pe += p[k] * p[k];
  }
  const double pbar = p_sum / static_cast<double>(out.items);
  out.kappa = pe >= 1 ? kNaN : (pbar - pe) / (1 - pe);
  std::vector<double> disagreement(set.classes, 0);
  for (const auto& c : counts) {
    int n = 0;
    for (const auto& [k, v] : c) n += v;
    if (n < 2) continue;
    for (const auto& [k, v] : c) {
      disagreement[static_cast<size_t>(k)] += static_cast<double>(v) * (n - v) / (n - 1);
    }
  }
  for (size_t k = 0; k < set.classes; ++k) {
    const double denom = answers * p[k] * (1 - p[k]);
    if (p[k] > 0 && denom > 0) out.per_label[k] = 1 - disagreement[k] / denom;
  }
  return out;
}

}  // namespace closedloop
