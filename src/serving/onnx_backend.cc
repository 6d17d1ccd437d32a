#include "serving/onnx_backend.h"

#include <atomic>
#include <thread>

#include <opencv2/core/utils/logger.hpp>
#include <opencv2/dnn.hpp>

namespace closedloop {

struct OnnxBackend::Slot {
  std::mutex mu;  // guards net (forward mutates the net's internal buffers)
  cv::dnn::Net net;
};

OnnxBackend::OnnxBackend() = default;
OnnxBackend::~OnnxBackend() = default;

StatusOr<std::unique_ptr<OnnxBackend>> OnnxBackend::Load(const std::string& path,
                                                         const std::vector<std::string>& labels,
                                                         int slots) {
  ASSIGN_OR_RETURN(OnnxGraphInfo graph, ReadOnnxGraph(path));
  for (const auto& t : graph.inputs) {
    if (t.elem_type != 1) {
      return InvalidArgument("input '" + t.name + "' of '" + path +
                             "' is not FLOAT; the ONNX backend takes FP32 tensors");
    }
  }
  static const bool quiet = [] {  // OpenCV logs importer chatter on stderr otherwise
    cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_ERROR);
    return true;
  }();
  (void)quiet;
  std::unique_ptr<OnnxBackend> b(new OnnxBackend());
  b->graph_ = std::move(graph);
  b->labels_ = labels;
  int n = slots > 0 ? slots : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  for (int i = 0; i < n; ++i) {
    auto slot = std::make_unique<Slot>();
    try {
      slot->net = cv::dnn::readNetFromONNX(path);
      slot->net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
      slot->net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
    } catch (const cv::Exception& e) {
      return InvalidArgument("OpenCV cannot load ONNX model '" + path + "': " + e.err +
                             " (run `closedloop onnx check` for the operators it lacks)");
    }
    b->slots_.push_back(std::move(slot));
  }
  const auto& out = b->graph_.outputs;
  if (!labels.empty() && (out.empty() || out[0].shape.empty() ||
                          out[0].shape.back() != static_cast<int64_t>(labels.size()))) {
    return InvalidArgument("config.toml lists " + std::to_string(labels.size()) +
                           " labels but the first output's last dimension differs");
  }
  return b;
}

std::vector<TensorSpec> OnnxBackend::InputSpecs() const {
  std::vector<TensorSpec> specs;
  for (const auto& t : graph_.inputs) specs.push_back({t.name, DataType::kFp32, t.shape});
  return specs;
}

std::vector<TensorSpec> OnnxBackend::OutputSpecs() const {
  std::vector<TensorSpec> specs;
  for (const auto& t : graph_.outputs) specs.push_back({t.name, DataType::kFp32, t.shape});
  return specs;
}

StatusOr<std::vector<Tensor>> OnnxBackend::Infer(const std::vector<Tensor>& inputs) const {
  static std::atomic<size_t> next_index{0};
  thread_local size_t my_index = next_index.fetch_add(1);
  Slot& slot = *slots_[my_index % slots_.size()];
  std::vector<cv::Mat> blobs;
  std::vector<Tensor> out;
  {
    std::lock_guard lock(slot.mu);
    try {
      for (const Tensor& t : inputs) {
        std::vector<int> dims(t.shape.begin(), t.shape.end());
        const auto& data = *t.As<float>();
        cv::Mat m(static_cast<int>(dims.size()), dims.data(), CV_32F);
        std::copy(data.begin(), data.end(), m.ptr<float>());
        slot.net.setInput(m, t.name);
      }
      std::vector<std::string> names;
      for (const auto& o : graph_.outputs) names.push_back(o.name);
      slot.net.forward(blobs, names);
    } catch (const cv::Exception& e) {
      return InvalidArgument("ONNX inference failed: " + e.err);
    }
  }
  for (size_t i = 0; i < blobs.size(); ++i) {
    const cv::Mat& m = blobs[i];
    Tensor t{graph_.outputs[i].name, DataType::kFp32, {}, std::vector<float>()};
    for (int d = 0; d < m.dims; ++d) t.shape.push_back(m.size[d]);
    cv::Mat cont = m.isContinuous() ? m : m.clone();
    auto& v = std::get<std::vector<float>>(t.values);
    v.assign(cont.ptr<float>(), cont.ptr<float>() + cont.total());
    out.push_back(std::move(t));
  }
  return out;
}

}  // namespace closedloop
