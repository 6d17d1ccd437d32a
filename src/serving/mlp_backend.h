// MlpBackend: closedloop's neural text head (model.mlp, see mlp_model.h) served
// like a fastText model: the same text preprocessing, labels from config.toml,
// calibrated temperature, and the same OIP view (input "text" BYTES; outputs
// "label", "confidence", "probabilities"). An ensemble serves the average of its
// members' probabilities. The sentence vector is the first member's hidden layer.
//
// Thread safety: immutable after Load(); every method is safe to call concurrently.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "serving/backend.h"
#include "serving/mlp_model.h"

namespace closedloop {

class MlpBackend final : public Backend {
 public:
  // `labels` must have one entry per output of the model.
  static StatusOr<std::unique_ptr<MlpBackend>> Load(const std::string& model_path,
                                                    std::vector<std::string> labels,
                                                    double temperature = 1.0);
  static StatusOr<std::unique_ptr<MlpBackend>> FromModel(std::unique_ptr<MlpModel> model,
                                                         std::vector<std::string> labels,
                                                         double temperature = 1.0);

  std::string_view flavor() const override { return "mlp"; }
  const std::vector<std::string>& labels() const override { return labels_; }
  StatusOr<LabelScores> PredictText(std::string_view text, int k) const override;
  StatusOr<std::vector<float>> SentenceVector(std::string_view text) const override;
  StatusOr<double> OovRate(std::string_view text) const override;
  // `passes` MC-dropout passes per member at the trained dropout rate (one
  // deterministic pass per member when it was trained without dropout), seeded by
  // the text so the same text gets the same answer.
  StatusOr<PredictiveUncertainty> TextUncertainty(std::string_view text, int passes) const override;
  StatusOr<std::vector<float>> TextLogits(std::string_view text) const override;
  StatusOr<std::vector<std::vector<float>>> TextCommittee(std::string_view text) const override;
  std::vector<TensorSpec> InputSpecs() const override;
  std::vector<TensorSpec> OutputSpecs() const override;
  StatusOr<std::vector<Tensor>> Infer(const std::vector<Tensor>& inputs) const override;

  // Every label's calibrated probability, in label order (ensemble average).
  StatusOr<std::vector<float>> Probabilities(std::string_view text) const;
  const MlpModel& model() const { return *model_; }

 private:
  MlpBackend() = default;
  std::unique_ptr<MlpModel> model_;
  std::vector<std::string> labels_;
  double temperature_ = 1.0;
};

}  // namespace closedloop
