#include "serving/fasttext_backend.h"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fasttext/fasttext.h>

#include "serving/text_normalizer.h"

namespace closedloop {
namespace {

constexpr std::string_view kLabelPrefix = "__label__";
constexpr int32_t kFastTextMagic = 793712314;  // fastText's FASTTEXT_FILEFORMAT_MAGIC_INT32

}  // namespace

FastTextBackend::~FastTextBackend() = default;

StatusOr<std::unique_ptr<FastTextBackend>> FastTextBackend::Load(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    return NotFound("model file '" + path + "' does not exist");
  }
  {
    // fastText aborts or over-allocates on some foreign files; check the magic first.
    std::ifstream in(path, std::ios::binary);
    int32_t magic = 0;
    in.read(reinterpret_cast<char*>(&magic), sizeof magic);
    if (!in || magic != kFastTextMagic) {
      return InvalidArgument("'" + path + "' is not a fastText model (bad magic number)");
    }
  }
  std::unique_ptr<FastTextBackend> b(new FastTextBackend());
  b->model_ = std::make_unique<fasttext::FastText>();
  try {
    b->model_->loadModel(path);
  } catch (const std::exception& e) {
    return InvalidArgument("cannot load fastText model '" + path + "': " + e.what());
  }
  auto dict = b->model_->getDictionary();
  if (dict->nlabels() <= 0) {
    return InvalidArgument("'" + path + "' is not a supervised fastText model (no labels)");
  }
  for (int32_t i = 0; i < dict->nlabels(); ++i) {
    std::string label = dict->getLabel(i);
    if (label.rfind(kLabelPrefix, 0) == 0) label.erase(0, kLabelPrefix.size());
    b->labels_.push_back(std::move(label));
  }
  return b;
}

int FastTextBackend::dimension() const { return model_->getDimension(); }

StatusOr<LabelScores> FastTextBackend::PredictText(std::string_view text, int k) const {
  std::istringstream in(NormalizeText(text) + "\n");
  std::vector<int32_t> words, labels;
  model_->getDictionary()->getLine(in, words, labels);
  if (k <= 0 || k > static_cast<int>(labels_.size())) k = static_cast<int>(labels_.size());
  fasttext::Predictions predictions;  // (log-probability, label index), best first
  model_->predict(k, words, predictions, 0.0);
  if (predictions.empty()) return InvalidArgument("field 'text' has no usable tokens");
  LabelScores out;
  out.reserve(predictions.size());
  for (const auto& [log_p, index] : predictions) {
    out.push_back({index, std::min(1.0f, std::exp(log_p))});
  }
  return out;
}

StatusOr<std::vector<float>> FastTextBackend::SentenceVector(std::string_view text) const {
  std::istringstream in(NormalizeText(text) + "\n");
  fasttext::Vector vec(model_->getDimension());
  model_->getSentenceVector(in, vec);
  return std::vector<float>(vec.data(), vec.data() + vec.size());
}

}  // namespace closedloop
