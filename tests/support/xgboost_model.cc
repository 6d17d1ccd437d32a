#include "support/xgboost_model.h"

#include <xgboost/c_api.h>

#include <cmath>
#include <filesystem>
#include <stdexcept>

#include "support/temp_dir.h"

namespace closedloop::testing {

void WriteXgboostModel(const std::string& dir, const std::string& objective) {
  std::filesystem::create_directories(dir);
  const int n = 600;
  std::vector<float> x, y;
  for (int i = 0; i < n; ++i) {
    float amount = static_cast<float>((i * 37) % 500);
    float hour = static_cast<float>((i * 7) % 24);
    float foreign = static_cast<float>(i % 3 == 0);
    x.insert(x.end(), {amount, hour, foreign});
    if (objective == "binary:logistic") {
      y.push_back(amount > 250 && foreign > 0 ? 1.f : 0.f);
    } else if (objective == "multi:softprob") {
      y.push_back(amount < 150 ? 0.f : (amount < 350 ? 1.f : 2.f));
    } else {
      y.push_back(2 * amount + 3 * hour);
    }
  }
  DMatrixHandle d;
  XGDMatrixCreateFromMat(x.data(), n, 3, std::nanf(""), &d);
  XGDMatrixSetFloatInfo(d, "label", y.data(), n);
  const char* names[] = {"amount", "hour", "foreign"};
  XGDMatrixSetStrFeatureInfo(d, "feature_name", names, 3);
  BoosterHandle b;
  XGBoosterCreate(&d, 1, &b);
  XGBoosterSetParam(b, "objective", objective.c_str());
  if (objective == "multi:softprob") XGBoosterSetParam(b, "num_class", "3");
  XGBoosterSetParam(b, "max_depth", "3");
  XGBoosterSetParam(b, "nthread", "1");
  XGBoosterSetParam(b, "seed", "1");
  for (int it = 0; it < 15; ++it) XGBoosterUpdateOneIter(b, it, d);
  XGBoosterSetStrFeatureInfo(b, "feature_name", names, 3);  // saved in model.json
  if (XGBoosterSaveModel(b, (dir + "/model.json").c_str()) != 0) {
    throw std::runtime_error(XGBGetLastError());
  }
  XGBoosterFree(b);
  XGDMatrixFree(d);
  std::string config = "flavor = \"xgboost\"\ntop_k = 3\n";
  if (objective == "binary:logistic") config += "labels = [\"legit\", \"fraud\"]\n";
  if (objective == "multi:softprob") config += "labels = [\"low\", \"mid\", \"high\"]\n";
  WriteFile(dir + "/config.toml", config);
}

void ConvertXgboostModel(const std::string& from, const std::string& to) {
  BoosterHandle b;
  XGBoosterCreate(nullptr, 0, &b);
  if (XGBoosterLoadModel(b, from.c_str()) != 0 || XGBoosterSaveModel(b, to.c_str()) != 0) {
    throw std::runtime_error(XGBGetLastError());
  }
  XGBoosterFree(b);
}

std::vector<float> XgboostReference(const std::string& model_file, const std::vector<float>& rows,
                                    int n_rows, int type) {
  BoosterHandle b;
  XGBoosterCreate(nullptr, 0, &b);
  XGBoosterLoadModel(b, model_file.c_str());
  DMatrixHandle d;
  XGDMatrixCreateFromMat(rows.data(), n_rows, rows.size() / n_rows, std::nanf(""), &d);
  std::string config = "{\"type\": " + std::to_string(type) +
                       ", \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, "
                       "\"strict_shape\": false}";
  const bst_ulong* shape;
  bst_ulong dim;
  const float* out;
  XGBoosterPredictFromDMatrix(b, d, config.c_str(), &shape, &dim, &out);
  size_t total = 1;
  for (bst_ulong i = 0; i < dim; ++i) total *= shape[i];
  std::vector<float> result(out, out + total);
  XGDMatrixFree(d);
  XGBoosterFree(b);
  return result;
}

}  // namespace closedloop::testing
