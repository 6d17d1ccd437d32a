#include "learn/onnx_agreement.h"

#include <algorithm>
#include <cmath>

namespace closedloop {

namespace {

size_t ArgMax(const float* p, size_t n) {
  return static_cast<size_t>(std::max_element(p, p + n) - p);
}

}  // namespace

StatusOr<OnnxAgreementReport> CompareOnnxWithNative(const TextVector& native,
                                                    const TextVector& features, const Backend& onnx,
                                                    const std::vector<std::string>& texts,
                                                    const std::vector<std::string>* gold,
                                                    const std::vector<std::string>& labels,
                                                    int batch_size) {
  if (gold != nullptr && gold->size() != texts.size()) {
    return InvalidArgument("gold labels and texts differ in length");
  }
  const std::vector<TensorSpec> specs = onnx.InputSpecs();
  if (specs.size() != 1) return InvalidArgument("the ONNX model must have exactly one input");
  OnnxAgreementReport r;
  int64_t agree = 0, native_right = 0, onnx_right = 0;
  double sum_diff = 0;
  int64_t values = 0;
  const size_t k = labels.size();
  std::vector<std::vector<float>> batch_native;
  std::vector<size_t> batch_rows;
  std::vector<float> batch_x;
  int64_t width = -1;

  auto flush = [&]() -> Status {
    if (batch_rows.empty()) return OkStatus();
    const int64_t n = static_cast<int64_t>(batch_rows.size());
    Tensor in{specs[0].name, DataType::kFp32, {n, width}, batch_x};
    ASSIGN_OR_RETURN(std::vector<Tensor> out, onnx.Infer({in}));
    const auto* p = out.empty() ? nullptr : out[0].As<float>();
    if (p == nullptr || p->size() != static_cast<size_t>(n) * k) {
      return Internal("the ONNX model's first output is not [N, " + std::to_string(k) + "] FP32");
    }
    for (int64_t i = 0; i < n; ++i) {
      const float* o = p->data() + i * static_cast<int64_t>(k);
      const std::vector<float>& nat = batch_native[static_cast<size_t>(i)];
      for (size_t j = 0; j < k; ++j) {
        const double d = std::fabs(static_cast<double>(o[j]) - nat[j]);
        r.max_abs_diff = std::max(r.max_abs_diff, d);
        sum_diff += d;
      }
      values += static_cast<int64_t>(k);
      const size_t a = ArgMax(nat.data(), k), b = ArgMax(o, k);
      if (a == b) ++agree;
      if (gold != nullptr) {
        const std::string& g = (*gold)[batch_rows[static_cast<size_t>(i)]];
        if (labels[a] == g) ++native_right;
        if (labels[b] == g) ++onnx_right;
      }
    }
    r.rows += n;
    batch_native.clear();
    batch_rows.clear();
    batch_x.clear();
    return OkStatus();
  };

  for (size_t row = 0; row < texts.size(); ++row) {
    auto p = native(texts[row]);
    if (!p.ok()) {
      ++r.skipped;
      continue;
    }
    if (p->size() != k) return Internal("the native model returned the wrong number of labels");
    ASSIGN_OR_RETURN(std::vector<float> x, features(texts[row]));
    if (width < 0) width = static_cast<int64_t>(x.size());
    if (static_cast<int64_t>(x.size()) != width) return Internal("feature rows differ in width");
    batch_x.insert(batch_x.end(), x.begin(), x.end());
    batch_native.push_back(std::move(*p));
    batch_rows.push_back(row);
    if (static_cast<int>(batch_rows.size()) >= batch_size) RETURN_IF_ERROR(flush());
  }
  RETURN_IF_ERROR(flush());
  if (r.rows == 0) return InvalidArgument("no text could be scored by the native model");
  r.mean_abs_diff = sum_diff / static_cast<double>(values);
  r.top_label_agreement = static_cast<double>(agree) / static_cast<double>(r.rows);
  if (gold != nullptr) {
    r.native_accuracy = static_cast<double>(native_right) / static_cast<double>(r.rows);
    r.onnx_accuracy = static_cast<double>(onnx_right) / static_cast<double>(r.rows);
  }
  return r;
}

}  // namespace closedloop
