// Trains a small real XGBoost model through the C API and writes a servable
// version directory (model.json + config.toml). Features: amount, hour, foreign.
#pragma once

#include <string>
#include <vector>

namespace closedloop::testing {

// objective: "binary:logistic", "multi:softprob" (3 classes) or "reg:squarederror".
void WriteXgboostModel(const std::string& version_dir, const std::string& objective);
// Loads a model file and saves it again (format from the extension: .json or .ubj).
void ConvertXgboostModel(const std::string& from, const std::string& to);
// XGBoost's own prediction for rows (DMatrix path), for independent comparison.
std::vector<float> XgboostReference(const std::string& model_file, const std::vector<float>& rows,
                                    int n_rows, int type);

}  // namespace closedloop::testing
