#include "serving/onnx_graph.h"

#include <fstream>
#include <set>

#include <onnx/checker.h>
#include <onnx/onnx_pb.h>

namespace closedloop {
namespace {

OnnxTensorInfo Info(const onnx::ValueInfoProto& v) {
  OnnxTensorInfo t;
  t.name = v.name();
  if (v.type().has_tensor_type()) {
    t.elem_type = v.type().tensor_type().elem_type();
    for (const auto& d : v.type().tensor_type().shape().dim()) {
      t.shape.push_back(d.has_dim_value() ? d.dim_value() : -1);
    }
  }
  return t;
}

}  // namespace

StatusOr<OnnxGraphInfo> ReadOnnxGraph(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("model file '" + path + "' does not exist");
  onnx::ModelProto model;
  if (!model.ParseFromIstream(&in)) {
    return InvalidArgument("'" + path + "' is not an ONNX model (protobuf parse failed)");
  }
  OnnxGraphInfo g;
  for (const auto& op : model.opset_import()) {
    if (op.domain().empty() || op.domain() == "ai.onnx") g.opset = op.version();
  }
  std::set<std::string> initializers;
  for (const auto& init : model.graph().initializer()) initializers.insert(init.name());
  for (const auto& v : model.graph().input()) {
    if (!initializers.count(v.name())) g.inputs.push_back(Info(v));
  }
  for (const auto& v : model.graph().output()) g.outputs.push_back(Info(v));
  for (const auto& node : model.graph().node()) {
    std::string op = node.domain().empty() || node.domain() == "ai.onnx"
                         ? node.op_type()
                         : node.domain() + ":" + node.op_type();
    ++g.operators[op];
  }
  try {
    onnx::checker::check_model(model);
  } catch (const std::exception& e) {
    g.checker_error = e.what();
  }
  if (g.inputs.empty()) return InvalidArgument("'" + path + "' declares no graph inputs");
  return g;
}

}  // namespace closedloop
