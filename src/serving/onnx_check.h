// `closedloop onnx check`: can this ONNX model be deployed here? Reads the graph
// (libonnx), runs onnx::checker, loads it with OpenCV DNN and runs it once on
// zeros of the declared input shapes (symbolic dimensions as 1).
//
// Operators are marked unsupported when OpenCV's importer fails on them (its
// error names the node's operator) or when they are on the list of operators
// measured not to work in OpenCV 4.6 (DESIGN.md: LayerNormalization,
// QuantizeLinear, DequantizeLinear). OpenCV stops importing at the first failure,
// so a model may hold further unsupported operators after the one reported.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "serving/onnx_graph.h"

namespace closedloop {

struct OnnxCheckReport {
  bool supported = false;
  std::string error;  // the reason the file could not be read at all
  OnnxGraphInfo graph;
  std::map<std::string, std::string> unsupported;  // operator -> why
  std::string load_error;                          // OpenCV's import error, if any
  std::string run_error;                           // error of the run on zeros, if any
  std::vector<std::pair<std::string, std::vector<int64_t>>> output_shapes;  // from the run
};

OnnxCheckReport CheckOnnxModel(const std::string& path);
// Human-readable report (what the CLI prints).
std::string FormatOnnxCheck(const std::string& path, const OnnxCheckReport& report);

}  // namespace closedloop
