// What an ONNX file declares, read with libonnx (no inference): graph inputs
// (initializers excluded), outputs with element types and shapes (-1 for symbolic
// or unknown dimensions), the opset, and every operator used with its count.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "serving/tensor.h"

namespace closedloop {

struct OnnxTensorInfo {
  std::string name;
  int elem_type = 0;  // onnx::TensorProto_DataType; 1 = FLOAT
  std::vector<int64_t> shape;
};

struct OnnxGraphInfo {
  std::vector<OnnxTensorInfo> inputs;
  std::vector<OnnxTensorInfo> outputs;
  std::map<std::string, int> operators;  // "Gemm" -> 2 ("domain:Op" outside the default domain)
  int64_t opset = 0;
  std::string checker_error;  // empty: onnx::checker accepted the model
};

StatusOr<OnnxGraphInfo> ReadOnnxGraph(const std::string& path);

}  // namespace closedloop
