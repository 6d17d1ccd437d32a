// TextProfile: what a text model's inputs and outputs looked like on held-out
// data (the reference a production window is compared with): samples of text
// length (characters), out-of-vocabulary rate and top-label confidence, the
// predicted-label and true-label counts, and a sample of sentence vectors.
// Written by training as reference_profile.json beside the model; a value type.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace closedloop {

struct TextProfile {
  size_t rows = 0;
  std::vector<double> text_length, oov_rate, confidence;
  std::map<std::string, double> predicted, truth;
  std::vector<std::vector<float>> vectors;
};

inline constexpr const char* kProfileFile = "reference_profile.json";

std::string TextProfileJson(const TextProfile& p);
StatusOr<TextProfile> ParseTextProfile(std::string_view json);
// Reads <dir>/reference_profile.json (NotFound when absent).
StatusOr<TextProfile> LoadTextProfile(const std::string& dir);

}  // namespace closedloop
