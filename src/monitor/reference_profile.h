// ReferenceProfile: what a model's inputs and outputs looked like on held-out
// data (the reference a production window is compared with). Both kinds have the
// top-label confidence sample and the predicted-label and true-label counts;
// text models add samples of text length (characters) and out-of-vocabulary rate
// and a sample of sentence vectors; tabular models add one FeatureProfile per
// feature (a sample of its values, or its category counts, and its missing share).
// Written by training as reference_profile.json beside the model; a value type.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace closedloop {

struct FeatureProfile {
  std::string name;
  bool categorical = false;
  std::vector<double> sample;            // numeric: the non-missing values (a sample)
  std::map<std::string, double> counts;  // categorical: rows per category
  double missing_share = 0;
};

struct ReferenceProfile {
  size_t rows = 0;
  std::vector<double> text_length, oov_rate, confidence;
  std::map<std::string, double> predicted, truth;
  // Share of the profiled rows with a true label that the model got right (absent in
  // profiles written before it existed).
  std::optional<double> accuracy;
  std::vector<std::vector<float>> vectors;
  std::vector<FeatureProfile> features;  // tabular models only
};

inline constexpr const char* kProfileFile = "reference_profile.json";

std::string ReferenceProfileJson(const ReferenceProfile& p);
StatusOr<ReferenceProfile> ParseReferenceProfile(std::string_view json);
// Reads <dir>/reference_profile.json (NotFound when absent).
StatusOr<ReferenceProfile> LoadReferenceProfile(const std::string& dir);

}  // namespace closedloop
