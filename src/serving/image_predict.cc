#include "serving/image_predict.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace closedloop {
namespace {

std::string ScoresOutputName(const ImageConfig& c, const std::vector<TensorSpec>& outputs) {
  if (!c.output.empty()) return c.output;
  for (const auto& o : outputs) {
    if (o.name == "probabilities") return o.name;
  }
  return outputs.empty() ? "" : outputs.front().name;
}

const Tensor* FindOutput(const std::vector<Tensor>& outputs, const std::string& name) {
  for (const auto& t : outputs) {
    if (t.name == name) return &t;
  }
  return nullptr;
}

std::string ShapeText(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

}  // namespace

std::string ImageInputName(const ImageConfig& c, const Backend& b) {
  if (!c.input.empty()) return c.input;
  auto specs = b.InputSpecs();
  return specs.empty() ? "" : specs.front().name;
}

Status CheckImageModel(const ImageConfig& c, const Backend& b) {
  const std::string input = ImageInputName(c, b);
  auto specs = b.InputSpecs();
  auto it =
      std::find_if(specs.begin(), specs.end(), [&](const auto& s) { return s.name == input; });
  if (it == specs.end()) {
    return InvalidArgument("[image] input '" + input + "' is not an input of the model");
  }
  if (it->datatype != DataType::kFp32) {
    return InvalidArgument("[image] input '" + input + "' is not FP32");
  }
  const auto want = ImageTensorShape(c, -1);
  bool fits = it->shape.size() == want.size();
  for (size_t i = 1; fits && i < want.size(); ++i) {
    fits = it->shape[i] < 0 || it->shape[i] == want[i];
  }
  if (!fits) {
    return InvalidArgument("[image] gives the input shape " + ShapeText(want) + " (" + c.layout +
                           ") but the model's input '" + input + "' is " + ShapeText(it->shape));
  }
  auto outs = b.OutputSpecs();
  for (const std::string& name : {ScoresOutputName(c, outs), c.embedding_output}) {
    if (name.empty()) continue;
    if (std::none_of(outs.begin(), outs.end(), [&](const auto& o) { return o.name == name; })) {
      return InvalidArgument("[image] names the output '" + name + "', which the model lacks");
    }
  }
  if (b.labels().empty()) return InvalidArgument("an image model needs labels in config.toml");
  return OkStatus();
}

Tensor ImageBatchTensor(const std::vector<const PreparedImage*>& images, const ImageConfig& c,
                        const Backend& b) {
  Tensor t{ImageInputName(c, b), DataType::kFp32,
           ImageTensorShape(c, static_cast<int64_t>(images.size())), std::vector<float>()};
  auto& v = std::get<std::vector<float>>(t.values);
  v.reserve(images.empty() ? 0 : images.size() * images.front()->values.size());
  for (const PreparedImage* p : images) v.insert(v.end(), p->values.begin(), p->values.end());
  return t;
}

StatusOr<ImageOutputs> ReadImageOutputs(const std::vector<Tensor>& outputs, const ImageConfig& c,
                                        const Backend& b, size_t rows) {
  ImageOutputs out;
  const size_t nl = b.labels().size();
  const std::string scores_name = ScoresOutputName(c, b.OutputSpecs());
  const Tensor* scores = FindOutput(outputs, scores_name);
  const auto* p = scores ? scores->As<float>() : nullptr;
  if (p == nullptr || p->size() != rows * nl) {
    return InvalidArgument("the model's output '" + scores_name + "' does not hold " +
                           std::to_string(nl) + " class scores per image");
  }
  for (size_t r = 0; r < rows; ++r) {
    std::vector<float> row(p->begin() + static_cast<long>(r * nl),
                           p->begin() + static_cast<long>((r + 1) * nl));
    if (c.softmax) {
      const float m = *std::max_element(row.begin(), row.end());
      double sum = 0;
      for (float& x : row) sum += (x = std::exp(x - m));
      for (float& x : row) x = static_cast<float>(x / sum);
    }
    out.probabilities.push_back(std::move(row));
  }
  if (!c.embedding_output.empty()) {
    const Tensor* e = FindOutput(outputs, c.embedding_output);
    const auto* ev = e ? e->As<float>() : nullptr;
    if (ev == nullptr || ev->empty() || ev->size() % rows != 0) {
      return InvalidArgument("the model's output '" + c.embedding_output +
                             "' does not hold one embedding per image");
    }
    const size_t width = ev->size() / rows;
    for (size_t r = 0; r < rows; ++r) {
      out.embeddings.emplace_back(ev->begin() + static_cast<long>(r * width),
                                  ev->begin() + static_cast<long>((r + 1) * width));
    }
  }
  return out;
}

LabelScores TopLabels(const std::vector<float>& probabilities, size_t k) {
  std::vector<int32_t> idx(probabilities.size());
  std::iota(idx.begin(), idx.end(), 0);
  k = std::min(k, idx.size());
  std::partial_sort(idx.begin(), idx.begin() + static_cast<long>(k), idx.end(),
                    [&](int32_t a, int32_t b) { return probabilities[a] > probabilities[b]; });
  LabelScores s;
  for (size_t i = 0; i < k; ++i) s.push_back({idx[i], probabilities[idx[i]]});
  return s;
}

}  // namespace closedloop
