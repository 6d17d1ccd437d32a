// Backend: one loaded model version that can answer predictions. The fastText
// backend implements text classification now; the XGBoost and ONNX backends
// (tabular features, tensors) implement the same interface.
//
// Thread safety: a Backend is immutable after Load; every method is called
// concurrently from all io threads without locking.
// Ownership: owned by its ModelVersion (shared_ptr<const>), which in-flight
// requests keep alive across a swap.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "serving/tensor.h"

namespace closedloop {

struct ScoredLabel {
  int32_t index;  // into Backend::labels()
  float p;        // probability in [0, 1]
};

// Labels in descending probability, at most k of them.
using LabelScores = std::vector<ScoredLabel>;

// How unsure a model is about one input, from several stochastic forward passes
// (MC dropout) of each ensemble member. Entropies in nats.
struct PredictiveUncertainty {
  int passes = 0;                 // forward passes averaged
  double predictive_entropy = 0;  // H[mean p]
  double expected_entropy = 0;    // mean H[p_t]
  double mutual_information = 0;  // BALD: predictive - expected entropy (>= 0)
  double vote_entropy = 0;        // entropy of the passes' top-label votes
};

// A tabular model's answer for one row.
struct TabularPrediction {
  LabelScores scores;  // classifiers: every class, most likely first; empty for regressors
  float value = 0;     // regressors: the predicted value
  // With explain: per-feature contributions (SHAP, in feature_names() order) and,
  // last, the bias; for classifiers they explain the predicted class's margin.
  std::vector<float> contributions;
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string_view flavor() const = 0;
  // Label names, without any library prefix (no "__label__").
  virtual const std::vector<std::string>& labels() const = 0;

  // Text classification: the k most likely labels. Default: the flavor takes no text.
  virtual StatusOr<LabelScores> PredictText(std::string_view text, int k) const;
  // A fixed-size embedding of the text (fastText's sentence vector), for
  // clustering and drift. Default: unsupported by the flavor.
  virtual StatusOr<std::vector<float>> SentenceVector(std::string_view text) const;
  // Share of the text's words the model has no vector for (0 for an empty text).
  // Default: unsupported by the flavor.
  virtual StatusOr<double> OovRate(std::string_view text) const;

  // Uncertainty of a text prediction over `passes` MC-dropout passes per member.
  // Default: Unimplemented (the flavor has no dropout or members).
  virtual StatusOr<PredictiveUncertainty> TextUncertainty(std::string_view text, int passes) const;
  // Text models: each ensemble member's distribution over labels() (label order),
  // for query-by-committee. Default: InvalidArgument (the flavor has no members).
  virtual StatusOr<std::vector<std::vector<float>>> TextCommittee(std::string_view text) const;
  // Text models: the uncalibrated logits in label order (an ensemble's mean), for
  // out-of-scope scores (serving/oos_score.h). InvalidArgument for models without.
  virtual StatusOr<std::vector<float>> TextLogits(std::string_view text) const;

  // Tabular models: feature names in column order (empty for other flavors), and
  // one row of values in that order (NaN marks a missing value).
  virtual const std::vector<std::string>& feature_names() const;
  virtual StatusOr<TabularPrediction> PredictRow(const std::vector<float>& row, bool explain) const;

  // Open Inference Protocol view of the model. The caller has already checked
  // the inputs against InputSpecs() (names, datatypes, ranks, fixed dimensions);
  // Infer returns every output of OutputSpecs(), batch dimension first.
  virtual std::vector<TensorSpec> InputSpecs() const = 0;
  virtual std::vector<TensorSpec> OutputSpecs() const = 0;
  virtual StatusOr<std::vector<Tensor>> Infer(const std::vector<Tensor>& inputs) const = 0;
};

}  // namespace closedloop
