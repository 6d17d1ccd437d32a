#include "serving/fasttext_backend.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fasttext/densematrix.h>
#include <fasttext/fasttext.h>
#include <Eigen/Core>

#include "serving/text_normalizer.h"

namespace closedloop {
namespace {

constexpr std::string_view kLabelPrefix = "__label__";
constexpr int32_t kFastTextMagic = 793712314;  // fastText's FASTTEXT_FILEFORMAT_MAGIC_INT32

}  // namespace

struct FastTextBackend::DenseHead {
  std::shared_ptr<const fasttext::DenseMatrix> input;  // (words + buckets) x dim, fastText's own
  Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor> output;  // labels x dim
};

FastTextBackend::FastTextBackend() = default;
FastTextBackend::~FastTextBackend() = default;

StatusOr<std::unique_ptr<FastTextBackend>> FastTextBackend::Load(const std::string& path,
                                                                 double temperature) {
  if (!(temperature > 0)) return InvalidArgument("temperature must be greater than 0");
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
  b->inv_temperature_ = static_cast<float>(1.0 / temperature);
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
  if (!b->model_->isQuant() && b->model_->getArgs().loss == fasttext::loss_name::softmax) {
    auto head = std::make_unique<DenseHead>();
    head->input = b->model_->getInputMatrix();
    auto out = b->model_->getOutputMatrix();
    head->output =
        Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
            out->data(), out->rows(), out->cols());
    b->head_ = std::move(head);
  }
  return b;
}

StatusOr<std::vector<float>> FastTextBackend::OutputWeights() const {
  if (head_ == nullptr) {
    return FailedPrecondition(
        "only a fastText model with softmax loss that is not quantized has a linear head to "
        "export");
  }
  std::vector<float> w(static_cast<size_t>(head_->output.size()));
  Eigen::Map<Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>(
      w.data(), head_->output.rows(), head_->output.cols()) = head_->output;
  return w;
}

int FastTextBackend::dimension() const { return model_->getDimension(); }

const std::vector<int32_t>& FastTextBackend::Tokenize(std::string_view text) const {
  // Per-thread buffers keep their capacity: no allocation per request once warm.
  thread_local std::string line;
  thread_local std::istringstream in;
  thread_local std::vector<int32_t> words, labels;
  line = NormalizeText(text);
  line += '\n';
  in.clear();
  in.str(line);
  model_->getDictionary()->getLine(in, words, labels);  // word ids + hashed n-gram ids
  return words;
}

StatusOr<LabelScores> FastTextBackend::PredictText(std::string_view text, int k) const {
  if (head_ == nullptr) return PredictTextWithFastText(text, k);
  const std::vector<int32_t>& words = Tokenize(text);
  if (words.empty()) return InvalidArgument("field 'text' has no usable tokens");
  const int64_t dim = head_->input->cols();
  thread_local Eigen::VectorXf hidden, probs;
  hidden.setZero(dim);
  for (int32_t id : words) {
    hidden += Eigen::Map<const Eigen::VectorXf>(head_->input->data() + id * dim, dim);
  }
  hidden /= static_cast<float>(words.size());
  probs.noalias() = head_->output * hidden;
  probs *= inv_temperature_;                         // calibration
  probs = (probs.array() - probs.maxCoeff()).exp();  // stable softmax
  probs /= probs.sum();

  const int n = static_cast<int>(labels_.size());
  if (k <= 0 || k > n) k = n;
  LabelScores out(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) out[static_cast<size_t>(i)] = {i, probs[i]};
  std::partial_sort(out.begin(), out.begin() + k, out.end(),
                    [](const ScoredLabel& a, const ScoredLabel& b) { return a.p > b.p; });
  out.resize(static_cast<size_t>(k));
  return out;
}

StatusOr<std::vector<float>> FastTextBackend::TextLogits(std::string_view text) const {
  if (head_ == nullptr) return Backend::TextLogits(text);
  const std::vector<int32_t>& words = Tokenize(text);
  if (words.empty()) return InvalidArgument("field 'text' has no usable tokens");
  const int64_t dim = head_->input->cols();
  Eigen::VectorXf hidden = Eigen::VectorXf::Zero(dim);
  for (int32_t id : words) {
    hidden += Eigen::Map<const Eigen::VectorXf>(head_->input->data() + id * dim, dim);
  }
  hidden /= static_cast<float>(words.size());
  Eigen::VectorXf logits = head_->output * hidden;
  return std::vector<float>(logits.data(), logits.data() + logits.size());
}

StatusOr<LabelScores> FastTextBackend::PredictTextWithFastText(std::string_view text, int k) const {
  const std::vector<int32_t>& words = Tokenize(text);
  const int n = static_cast<int>(labels_.size());
  if (k <= 0 || k > n) k = n;
  fasttext::Predictions predictions;  // (log-probability, label index), best first
  // With a temperature every label's probability is needed to renormalize.
  model_->predict(inv_temperature_ == 1.0f ? k : n, words, predictions, 0.0);
  if (predictions.empty()) return InvalidArgument("field 'text' has no usable tokens");
  LabelScores out;
  out.reserve(predictions.size());
  double z = 0;
  for (const auto& [log_p, index] : predictions) {
    // fastText returns log(p + 1e-5) (its std_log guards log(0)); use p itself.
    float p = std::clamp(std::exp(log_p) - 1e-5f, 0.0f, 1.0f);
    if (inv_temperature_ != 1.0f) p = std::pow(std::max(p, 1e-30f), inv_temperature_);
    z += p;
    out.push_back({index, p});
  }
  if (inv_temperature_ != 1.0f) {  // calibration: p^(1/T), renormalized
    for (auto& s : out) s.p = static_cast<float>(s.p / z);
    out.resize(static_cast<size_t>(k));
  }
  return out;
}

std::vector<TensorSpec> FastTextBackend::InputSpecs() const {
  return {{"text", DataType::kBytes, {-1}}};
}

std::vector<TensorSpec> FastTextBackend::OutputSpecs() const {
  return {{"label", DataType::kBytes, {-1}},
          {"confidence", DataType::kFp32, {-1}},
          {"probabilities", DataType::kFp32, {-1, static_cast<int64_t>(labels_.size())}}};
}

StatusOr<std::vector<Tensor>> FastTextBackend::Infer(const std::vector<Tensor>& inputs) const {
  const auto* texts = inputs.at(0).As<std::string>();
  const int64_t n = static_cast<int64_t>(texts->size());
  const int64_t nl = static_cast<int64_t>(labels_.size());
  Tensor label{"label", DataType::kBytes, {n}, std::vector<std::string>()};
  Tensor confidence{"confidence", DataType::kFp32, {n}, std::vector<float>()};
  Tensor probs{"probabilities", DataType::kFp32, {n, nl}, std::vector<float>(n * nl, 0.f)};
  auto& label_v = std::get<std::vector<std::string>>(label.values);
  auto& conf_v = std::get<std::vector<float>>(confidence.values);
  auto& prob_v = std::get<std::vector<float>>(probs.values);
  for (int64_t i = 0; i < n; ++i) {
    if ((*texts)[i].find_first_not_of(" \t\r\n") == std::string::npos) {
      return InvalidArgument("input 'text' element " + std::to_string(i) + " is empty");
    }
    auto scores = PredictText((*texts)[i], 0);
    if (!scores.ok()) {
      return scores.status().WithContext("input 'text' element " + std::to_string(i));
    }
    label_v.push_back(labels_[scores->front().index]);
    conf_v.push_back(scores->front().p);
    for (const ScoredLabel& s : *scores) prob_v[i * nl + s.index] = s.p;
  }
  return std::vector<Tensor>{std::move(label), std::move(confidence), std::move(probs)};
}

StatusOr<std::vector<float>> FastTextBackend::SentenceVector(std::string_view text) const {
  std::istringstream in(NormalizeText(text) + "\n");
  fasttext::Vector vec(model_->getDimension());
  model_->getSentenceVector(in, vec);
  return std::vector<float>(vec.data(), vec.data() + vec.size());
}

StatusOr<double> FastTextBackend::OovRate(std::string_view text) const {
  std::istringstream in(NormalizeText(text));
  auto dict = model_->getDictionary();
  size_t words = 0, unknown = 0;
  for (std::string w; in >> w;) {
    ++words;
    if (dict->getId(w) < 0) ++unknown;
  }
  return words == 0 ? 0.0 : static_cast<double>(unknown) / static_cast<double>(words);
}

}  // namespace closedloop
