#include "serving/mlp_backend.h"

#include <algorithm>
#include <cmath>
#include <functional>
#include <random>

namespace closedloop {

StatusOr<std::unique_ptr<MlpBackend>> MlpBackend::Load(const std::string& model_path,
                                                       std::vector<std::string> labels,
                                                       double temperature) {
  ASSIGN_OR_RETURN(auto model, MlpModel::Load(model_path));
  auto b = FromModel(std::move(model), std::move(labels), temperature);
  if (!b.ok()) return b.status().WithContext("'" + model_path + "'");
  return b;
}

StatusOr<std::unique_ptr<MlpBackend>> MlpBackend::FromModel(std::unique_ptr<MlpModel> model,
                                                            std::vector<std::string> labels,
                                                            double temperature) {
  if (!(temperature > 0)) return InvalidArgument("temperature must be > 0");
  if (labels.size() != static_cast<size_t>(model->labels())) {
    return InvalidArgument("the model has " + std::to_string(model->labels()) +
                           " outputs but config.toml names " + std::to_string(labels.size()) +
                           " labels");
  }
  std::unique_ptr<MlpBackend> b(new MlpBackend());
  b->model_ = std::move(model);
  b->labels_ = std::move(labels);
  b->temperature_ = temperature;
  return b;
}

StatusOr<std::vector<float>> MlpBackend::Probabilities(std::string_view text) const {
  const SparseVector x = model_->featurizer().Featurize(text);
  if (x.index.empty()) return InvalidArgument("field 'text' has no known words or n-grams");
  auto members = model_->MemberProbabilities(x, 1.0);
  std::vector<float> mean(labels_.size(), 0.0f);
  for (const auto& p : members) {
    for (size_t i = 0; i < mean.size(); ++i) mean[i] += p[i];
  }
  if (temperature_ == 1.0) {
    for (float& v : mean) v /= static_cast<float>(members.size());
    return mean;
  }
  for (float& v : mean) v = std::log(std::max(v / static_cast<float>(members.size()), 1e-30f));
  SoftmaxInPlace(mean, temperature_);  // softmax(log p / T), as calibration fitted it
  return mean;
}

StatusOr<LabelScores> MlpBackend::PredictText(std::string_view text, int k) const {
  ASSIGN_OR_RETURN(std::vector<float> p, Probabilities(text));
  const int n = static_cast<int>(p.size());
  if (k <= 0 || k > n) k = n;
  LabelScores out(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i) out[static_cast<size_t>(i)] = {i, p[static_cast<size_t>(i)]};
  std::partial_sort(out.begin(), out.begin() + k, out.end(),
                    [](const ScoredLabel& a, const ScoredLabel& b) { return a.p > b.p; });
  out.resize(static_cast<size_t>(k));
  return out;
}

StatusOr<std::vector<float>> MlpBackend::SentenceVector(std::string_view text) const {
  std::vector<float> h;
  model_->Hidden(model_->members().front(), model_->featurizer().Featurize(text), h);
  return h;
}

StatusOr<std::vector<float>> MlpBackend::TextLogits(std::string_view text) const {
  const SparseVector x = model_->featurizer().Featurize(text);
  if (x.index.empty()) return InvalidArgument("field 'text' has no known words or n-grams");
  std::vector<float> mean(labels_.size(), 0.0f), h, z;
  for (const MlpMember& m : model_->members()) {
    model_->Hidden(m, x, h);
    model_->Logits(m, h, z);
    for (size_t i = 0; i < mean.size(); ++i) mean[i] += z[i];
  }
  for (float& v : mean) v /= static_cast<float>(model_->members().size());
  return mean;
}

StatusOr<std::vector<std::vector<float>>> MlpBackend::TextCommittee(std::string_view text) const {
  const SparseVector x = model_->featurizer().Featurize(text);
  if (x.index.empty()) return InvalidArgument("field 'text' has no known words or n-grams");
  return model_->MemberProbabilities(x, temperature_);
}

StatusOr<double> MlpBackend::OovRate(std::string_view text) const {
  return model_->featurizer().UnknownWordRate(text);
}

StatusOr<PredictiveUncertainty> MlpBackend::TextUncertainty(std::string_view text,
                                                            int passes) const {
  const SparseVector x = model_->featurizer().Featurize(text);
  if (x.index.empty()) return InvalidArgument("field 'text' has no known words or n-grams");
  if (model_->dropout() <= 0) passes = 1;
  passes = std::clamp(passes, 1, 1000);
  std::mt19937 rng(static_cast<uint32_t>(std::hash<std::string_view>{}(text)));
  const size_t C = labels_.size();
  std::vector<float> h, z;
  std::vector<double> mean(C, 0.0), votes(C, 0.0);
  double expected_entropy = 0;
  int n = 0;
  for (const MlpMember& m : model_->members()) {
    for (int t = 0; t < passes; ++t, ++n) {
      model_->Hidden(m, x, h, model_->dropout(), &rng);
      model_->Logits(m, h, z);
      SoftmaxInPlace(z, temperature_);
      double e = 0;
      for (size_t c = 0; c < C; ++c) {
        mean[c] += z[c];
        if (z[c] > 0) e -= z[c] * std::log(static_cast<double>(z[c]));
      }
      expected_entropy += e;
      votes[static_cast<size_t>(std::max_element(z.begin(), z.end()) - z.begin())] += 1;
    }
  }
  PredictiveUncertainty u;
  u.passes = n;
  for (size_t c = 0; c < C; ++c) {
    const double p = mean[c] / n, v = votes[c] / n;
    if (p > 0) u.predictive_entropy -= p * std::log(p);
    if (v > 0) u.vote_entropy -= v * std::log(v);
  }
  u.expected_entropy = expected_entropy / n;
  u.mutual_information = std::max(0.0, u.predictive_entropy - u.expected_entropy);
  return u;
}

std::vector<TensorSpec> MlpBackend::InputSpecs() const {
  return {{"text", DataType::kBytes, {-1}}};
}

std::vector<TensorSpec> MlpBackend::OutputSpecs() const {
  return {{"label", DataType::kBytes, {-1}},
          {"confidence", DataType::kFp32, {-1}},
          {"probabilities", DataType::kFp32, {-1, static_cast<int64_t>(labels_.size())}}};
}

StatusOr<std::vector<Tensor>> MlpBackend::Infer(const std::vector<Tensor>& inputs) const {
  const auto* texts = inputs.at(0).As<std::string>();
  const int64_t n = static_cast<int64_t>(texts->size());
  const int64_t nl = static_cast<int64_t>(labels_.size());
  Tensor label{"label", DataType::kBytes, {n}, std::vector<std::string>()};
  Tensor confidence{"confidence", DataType::kFp32, {n}, std::vector<float>()};
  Tensor probs{"probabilities", DataType::kFp32, {n, nl}, std::vector<float>()};
  auto& label_v = std::get<std::vector<std::string>>(label.values);
  auto& conf_v = std::get<std::vector<float>>(confidence.values);
  auto& prob_v = std::get<std::vector<float>>(probs.values);
  prob_v.reserve(static_cast<size_t>(n * nl));
  for (int64_t i = 0; i < n; ++i) {
    auto p = Probabilities((*texts)[static_cast<size_t>(i)]);
    if (!p.ok()) return p.status().WithContext("input 'text' element " + std::to_string(i));
    const auto best = std::max_element(p->begin(), p->end()) - p->begin();
    label_v.push_back(labels_[static_cast<size_t>(best)]);
    conf_v.push_back((*p)[static_cast<size_t>(best)]);
    prob_v.insert(prob_v.end(), p->begin(), p->end());
  }
  return std::vector<Tensor>{std::move(label), std::move(confidence), std::move(probs)};
}

}  // namespace closedloop
