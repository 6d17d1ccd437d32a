// FastTextBackend: a fastText supervised model (model.bin or quantized model.ftz).
// Input text goes through NormalizeText (the same preprocessing as training).
//
// Tokenization and n-gram hashing are fastText's own. For the common case (softmax
// loss, dense matrices) the head is computed here with Eigen: the average of the
// input rows, one vectorized matrix-vector product and a stable softmax, which is
// the same math as fastText's Model::predict without its scalar loops (tested to
// agree with fastText to 1e-5). Other losses and quantized models use fastText's
// predict unchanged.
//
// Thread safety: immutable after Load(); PredictText and SentenceVector are safe
// to call concurrently (fastText's predict allocates its own per-call state).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "serving/backend.h"

namespace fasttext {
class FastText;
}

namespace closedloop {

class FastTextBackend final : public Backend {
 public:
  // Loads the model file; a missing, truncated or foreign file is an error, never a crash.
  // `temperature` (> 0) calibrates the probabilities: softmax(logits / temperature).
  static StatusOr<std::unique_ptr<FastTextBackend>> Load(const std::string& model_path,
                                                         double temperature = 1.0);
  ~FastTextBackend() override;

  std::string_view flavor() const override { return "fasttext"; }
  const std::vector<std::string>& labels() const override { return labels_; }
  StatusOr<LabelScores> PredictText(std::string_view text, int k) const override;
  StatusOr<std::vector<float>> SentenceVector(std::string_view text) const override;
  StatusOr<double> OovRate(std::string_view text) const override;
  // The dense head's logits (softmax loss, not quantized).
  StatusOr<std::vector<float>> TextLogits(std::string_view text) const override;
  // OIP: input "text" BYTES [-1] (or [-1,1]); outputs "label" BYTES [-1],
  // "confidence" FP32 [-1], "probabilities" FP32 [-1, labels] in label order.
  std::vector<TensorSpec> InputSpecs() const override;
  std::vector<TensorSpec> OutputSpecs() const override;
  StatusOr<std::vector<Tensor>> Infer(const std::vector<Tensor>& inputs) const override;
  int dimension() const;
  // True when predictions use the Eigen head (softmax, not quantized).
  bool uses_dense_head() const { return head_ != nullptr; }
  // The output matrix (labels x dimension, row-major) of a softmax model that is
  // not quantized; FailedPrecondition otherwise. The ONNX export's linear head.
  StatusOr<std::vector<float>> OutputWeights() const;
  // fastText's own predict, for comparison in tests and for other losses.
  StatusOr<LabelScores> PredictTextWithFastText(std::string_view text, int k) const;

 private:
  struct DenseHead;
  FastTextBackend();
  // fastText's word and n-gram ids of `text`; valid until the next call on this thread.
  const std::vector<int32_t>& Tokenize(std::string_view text) const;
  std::unique_ptr<fasttext::FastText> model_;
  std::unique_ptr<DenseHead> head_;
  std::vector<std::string> labels_;
  float inv_temperature_ = 1.0f;
};

}  // namespace closedloop
