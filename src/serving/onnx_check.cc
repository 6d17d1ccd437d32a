#include "serving/onnx_check.h"

#include <regex>
#include <sstream>

#include "serving/onnx_backend.h"

namespace closedloop {
namespace {

// Measured on OpenCV 4.6 with the official ONNX test data (see DESIGN.md).
const std::map<std::string, std::string>& KnownUnsupported() {
  static const std::map<std::string, std::string> kOps = {
      {"LayerNormalization", "not implemented by OpenCV 4.6's ONNX importer"},
      {"QuantizeLinear", "quantized graphs are not supported by OpenCV 4.6"},
      {"DequantizeLinear", "quantized graphs are not supported by OpenCV 4.6"},
  };
  return kOps;
}

}  // namespace

OnnxCheckReport CheckOnnxModel(const std::string& path) {
  OnnxCheckReport r;
  auto graph = ReadOnnxGraph(path);
  if (!graph.ok()) {
    r.error = graph.status().message();
    return r;
  }
  r.graph = std::move(graph).value();
  for (const auto& [op, count] : r.graph.operators) {
    auto known = KnownUnsupported().find(op);
    if (known != KnownUnsupported().end()) r.unsupported[op] = known->second;
    if (op.find(':') != std::string::npos) r.unsupported[op] = "custom domain operator";
  }
  auto backend = OnnxBackend::Load(path, {}, 1);
  if (!backend.ok()) {
    r.load_error = backend.status().message();
    // OpenCV names the failing node as "Node [OpType@domain]".
    std::smatch m;
    if (std::regex_search(r.load_error, m, std::regex(R"(Node \[([A-Za-z0-9_]+)@)"))) {
      r.unsupported.emplace(m[1], "OpenCV's ONNX importer failed on it");
    }
  } else {
    std::vector<Tensor> zeros;
    for (const auto& spec : (*backend)->InputSpecs()) {
      Tensor t{spec.name, DataType::kFp32, spec.shape, std::vector<float>()};
      size_t n = 1;
      for (auto& d : t.shape) {
        if (d < 0) d = 1;
        n *= static_cast<size_t>(d);
      }
      std::get<std::vector<float>>(t.values).assign(n, 0.f);
      zeros.push_back(std::move(t));
    }
    auto out = (*backend)->Infer(zeros);
    if (!out.ok()) {
      r.run_error = out.status().message();
    } else {
      for (const auto& t : *out) r.output_shapes.emplace_back(t.name, t.shape);
    }
  }
  r.supported =
      r.error.empty() && r.load_error.empty() && r.run_error.empty() && r.unsupported.empty();
  return r;
}

std::string FormatOnnxCheck(const std::string& path, const OnnxCheckReport& r) {
  std::ostringstream out;
  out << "model: " << path << "\n";
  if (!r.error.empty()) {
    out << "error: " << r.error << "\nresult: NOT SUPPORTED\n";
    return out.str();
  }
  out << "opset: " << r.graph.opset << "\n";
  for (const auto& t : r.graph.inputs)
    out << "input:  " << t.name << " " << ShapeString(t.shape) << "\n";
  for (const auto& t : r.graph.outputs)
    out << "output: " << t.name << " " << ShapeString(t.shape) << "\n";
  out << "onnx checker: " << (r.graph.checker_error.empty() ? "ok" : r.graph.checker_error) << "\n";
  out << "operators:\n";
  for (const auto& [op, count] : r.graph.operators) {
    auto u = r.unsupported.find(op);
    out << "  " << op << " x" << count
        << (u == r.unsupported.end() ? "  ok" : "  UNSUPPORTED: " + u->second) << "\n";
  }
  for (const auto& [op, why] : r.unsupported) {
    if (!r.graph.operators.count(op)) out << "  " << op << "  UNSUPPORTED: " << why << "\n";
  }
  out << "opencv load: " << (r.load_error.empty() ? "ok" : r.load_error) << "\n";
  if (r.load_error.empty()) {
    out << "run on zeros: " << (r.run_error.empty() ? "ok" : r.run_error) << "\n";
    for (const auto& [name, shape] : r.output_shapes) {
      out << "  " << name << " " << ShapeString(shape) << "\n";
    }
  }
  out << "result: " << (r.supported ? "SUPPORTED" : "NOT SUPPORTED") << "\n";
  return out.str();
}

}  // namespace closedloop
