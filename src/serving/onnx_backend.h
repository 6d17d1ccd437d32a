// OnnxBackend: an ONNX model run by OpenCV DNN (readNetFromONNX), FP32 tensors in
// and out. Inputs and outputs, with their declared shapes, come from the graph
// (libonnx); requests are checked against them before they reach OpenCV.
//
// Thread safety: cv::dnn::Net::forward is not safe to call concurrently, so the
// backend holds one Net per worker slot, each behind its own mutex; a thread picks
// its slot by a per-thread index, so threads on different cores do not contend.
#pragma once

#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "serving/backend.h"
#include "serving/onnx_graph.h"

namespace closedloop {

class OnnxBackend final : public Backend {
 public:
  // `slots`: how many independent Nets to keep (0: number of cores).
  static StatusOr<std::unique_ptr<OnnxBackend>> Load(const std::string& path,
                                                     const std::vector<std::string>& labels,
                                                     int slots = 0);
  ~OnnxBackend() override;

  std::string_view flavor() const override { return "onnx"; }
  const std::vector<std::string>& labels() const override { return labels_; }
  std::vector<TensorSpec> InputSpecs() const override;
  std::vector<TensorSpec> OutputSpecs() const override;
  StatusOr<std::vector<Tensor>> Infer(const std::vector<Tensor>& inputs) const override;

 private:
  struct Slot;
  OnnxBackend();
  OnnxGraphInfo graph_;
  std::vector<std::string> labels_;
  std::vector<std::unique_ptr<Slot>> slots_;
};

}  // namespace closedloop
