// XGBoostBackend: a gradient-boosted tree model (model.json or model.ubj) through
// XGBoost's C API. Objectives: binary:logistic, multi:softprob / multi:softmax
// (classifiers), reg:* and others that output one value per row (regressors).
// Feature names come from the model file (else f0, f1, ...); class labels from
// config.toml `labels` (else "0", "1", ...).
//
// Thread safety: predictions use XGBoost's in-place prediction, which is safe to
// call concurrently. Explanations (SHAP contributions) go through a DMatrix and
// XGBoost's shared prediction cache, so they are serialized per model.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "serving/backend.h"

namespace closedloop {

class XGBoostBackend final : public Backend {
 public:
  static StatusOr<std::unique_ptr<XGBoostBackend>> Load(const std::string& model_path,
                                                        const std::vector<std::string>& labels);
  ~XGBoostBackend() override;

  std::string_view flavor() const override { return "xgboost"; }
  const std::vector<std::string>& labels() const override { return labels_; }
  const std::vector<std::string>& feature_names() const override { return features_; }
  StatusOr<TabularPrediction> PredictRow(const std::vector<float>& row,
                                         bool explain) const override;
  // OIP: input "features" FP32 [-1, n_features]; classifiers output "label" BYTES [-1],
  // "confidence" FP32 [-1], "probabilities" FP32 [-1, classes]; regressors "prediction" FP32 [-1].
  std::vector<TensorSpec> InputSpecs() const override;
  std::vector<TensorSpec> OutputSpecs() const override;
  StatusOr<std::vector<Tensor>> Infer(const std::vector<Tensor>& inputs) const override;

  bool is_classifier() const { return classes_ > 0; }
  const std::string& objective() const { return objective_; }

 private:
  XGBoostBackend() = default;
  // Raw predictions for `rows` rows: probabilities (classes per row) or values.
  StatusOr<std::vector<float>> PredictRaw(const float* data, size_t rows) const;
  StatusOr<std::vector<float>> Contributions(const std::vector<float>& row) const;

  void* booster_ = nullptr;  // BoosterHandle, owned
  std::string objective_;
  int classes_ = 0;  // 0: regressor; 2 for binary:logistic
  std::vector<std::string> features_;
  std::vector<std::string> labels_;
  mutable std::mutex explain_mu_;  // serializes DMatrix predictions (contributions)
};

}  // namespace closedloop
