#include "learn/calibration.h"

#include <algorithm>
#include <cmath>

namespace closedloop {
namespace {

constexpr double kFloor = 1e-12;  // log(0) guard

double Nll(const std::vector<std::vector<float>>& probs, const std::vector<int>& labels, double t) {
  double total = 0;
  for (size_t i = 0; i < probs.size(); ++i) {
    // log softmax(log p / t) at the true label, computed stably.
    double mx = -1e300;
    for (float p : probs[i]) mx = std::max(mx, std::log(std::max<double>(p, kFloor)) / t);
    double z = 0;
    for (float p : probs[i]) z += std::exp(std::log(std::max<double>(p, kFloor)) / t - mx);
    double target = std::log(std::max<double>(probs[i][labels[i]], kFloor)) / t - mx;
    total -= target - std::log(z);
  }
  return total / static_cast<double>(std::max<size_t>(1, probs.size()));
}

}  // namespace

double FitTemperature(const std::vector<std::vector<float>>& probs,
                      const std::vector<int>& labels) {
  if (probs.empty()) return 1.0;
  // NLL is unimodal in log T: golden-section search over log T in [log 0.05, log 20].
  double a = std::log(0.05), b = std::log(20.0);
  const double g = (std::sqrt(5.0) - 1) / 2;
  double c = b - g * (b - a), d = a + g * (b - a);
  double fc = Nll(probs, labels, std::exp(c)), fd = Nll(probs, labels, std::exp(d));
  for (int i = 0; i < 60; ++i) {
    if (fc < fd) {
      b = d, d = c, fd = fc;
      c = b - g * (b - a);
      fc = Nll(probs, labels, std::exp(c));
    } else {
      a = c, c = d, fc = fd;
      d = a + g * (b - a);
      fd = Nll(probs, labels, std::exp(d));
    }
  }
  return std::exp((a + b) / 2);
}

std::vector<float> ApplyTemperature(const std::vector<float>& probs, double t) {
  std::vector<float> out(probs.size());
  double mx = -1e300;
  for (float p : probs) mx = std::max(mx, std::log(std::max<double>(p, kFloor)) / t);
  double z = 0;
  for (size_t i = 0; i < probs.size(); ++i) {
    out[i] = static_cast<float>(std::exp(std::log(std::max<double>(probs[i], kFloor)) / t - mx));
    z += out[i];
  }
  for (float& p : out) p = static_cast<float>(p / z);
  return out;
}

double ExpectedCalibrationError(const std::vector<std::vector<float>>& probs,
                                const std::vector<int>& labels, int bins) {
  std::vector<double> conf(bins, 0), acc(bins, 0), count(bins, 0);
  for (size_t i = 0; i < probs.size(); ++i) {
    auto best = std::max_element(probs[i].begin(), probs[i].end());
    double c = *best;
    int b = std::min(bins - 1, static_cast<int>(c * bins));
    conf[b] += c;
    acc[b] += (best - probs[i].begin()) == labels[i] ? 1 : 0;
    count[b] += 1;
  }
  double ece = 0;
  for (int b = 0; b < bins; ++b) {
    if (count[b] > 0) ece += std::fabs(acc[b] - conf[b]) / static_cast<double>(probs.size());
  }
  return ece;
}

}  // namespace closedloop
