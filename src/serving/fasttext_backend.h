// FastTextBackend: a fastText supervised model (model.bin or quantized model.ftz).
// Input text goes through NormalizeText (the same preprocessing as training).
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
  static StatusOr<std::unique_ptr<FastTextBackend>> Load(const std::string& model_path);
  ~FastTextBackend() override;

  std::string_view flavor() const override { return "fasttext"; }
  const std::vector<std::string>& labels() const override { return labels_; }
  StatusOr<LabelScores> PredictText(std::string_view text, int k) const override;
  StatusOr<std::vector<float>> SentenceVector(std::string_view text) const override;
  int dimension() const;

 private:
  FastTextBackend() = default;
  std::unique_ptr<fasttext::FastText> model_;
  std::vector<std::string> labels_;
};

}  // namespace closedloop
