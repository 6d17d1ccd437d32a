#include "learn/calibration.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace closedloop {
namespace {

// Synthetic data whose true class probabilities are softmax(z); the model reports
// softmax(z * 3) (over-confident). Temperature scaling should find T close to 3.
void MakeOverconfident(std::vector<std::vector<float>>& probs, std::vector<int>& labels) {
  std::mt19937 rng(7);
  std::normal_distribution<double> noise(0, 1);
  std::uniform_real_distribution<double> u(0, 1);
  for (int i = 0; i < 4000; ++i) {
    std::vector<double> z(4);
    for (auto& v : z) v = noise(rng);
    std::vector<double> truth(4);
    double s = 0;
    for (int k = 0; k < 4; ++k) s += truth[k] = std::exp(z[k]);
    double r = u(rng) * s;
    int label = 0;
    while (label < 3 && (r -= truth[label]) > 0) ++label;
    std::vector<float> reported(4);
    double s3 = 0;
    for (int k = 0; k < 4; ++k) s3 += std::exp(3 * z[k]);
    for (int k = 0; k < 4; ++k) reported[k] = static_cast<float>(std::exp(3 * z[k]) / s3);
    probs.push_back(reported);
    labels.push_back(label);
  }
}

TEST(CalibrationTest, RecoversTemperatureAndLowersEce) {
  std::vector<std::vector<float>> probs;
  std::vector<int> labels;
  MakeOverconfident(probs, labels);
  double t = FitTemperature(probs, labels);
  EXPECT_NEAR(t, 3.0, 0.3);
  std::vector<std::vector<float>> calibrated;
  for (const auto& p : probs) calibrated.push_back(ApplyTemperature(p, t));
  double before = ExpectedCalibrationError(probs, labels);
  double after = ExpectedCalibrationError(calibrated, labels);
  EXPECT_GT(before, 0.1);
  EXPECT_LT(after, 0.03);
  EXPECT_LT(after, before);
}

TEST(CalibrationTest, TemperatureKeepsTheRankingAndSumsToOne) {
  std::vector<float> p = {0.7f, 0.2f, 0.1f};
  auto soft = ApplyTemperature(p, 2.0);
  EXPECT_NEAR(soft[0] + soft[1] + soft[2], 1.0, 1e-6);
  EXPECT_GT(soft[0], soft[1]);
  EXPECT_LT(soft[0], 0.7f);  // softer
  auto same = ApplyTemperature(p, 1.0);
  EXPECT_NEAR(same[1], 0.2f, 1e-6);
  // Perfectly calibrated predictions have (close to) zero ECE.
  std::vector<std::vector<float>> certain = {{1, 0}, {0, 1}};
  EXPECT_NEAR(ExpectedCalibrationError(certain, {0, 1}), 0, 1e-9);
}

}  // namespace
}  // namespace closedloop
