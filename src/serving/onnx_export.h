// ONNX export of the heads closedloop trains, written with libonnx (opset 13):
//
//   MLP (model.mlp):  input "features" FLOAT [N, D], the dense TF-IDF vector of
//     TextFeaturizer (D = its dimension). Per ensemble member:
//     Gemm(W1 transposed, transB) -> Relu -> Gemm(W2, transB) -> Softmax; the members' softmaxes
//     are summed and divided by their count. With a temperature T != 1 the average p becomes
//     Softmax(Log(p) / T), as MlpBackend calibrates.
//   Linear (fastText, softmax loss): input "sentence_vector" FLOAT [N, dim], the
//     average of the text's input rows (FastTextBackend::SentenceVector), then
//     Gemm(output matrix, transB) / T -> Softmax.
//   Image MLP (`closedloop train image`): input "image" FLOAT [N, C, H, W], already
//     normalized as the model's [image] config says; Flatten -> Gemm(W1, transB) ->
//     Relu (also the output "embedding" [N, hidden], the penultimate layer) ->
//     Gemm(W2, transB) -> Softmax.
//   Output "probabilities" FLOAT [N, labels] in label order in all three.
//
// An MLP whose W1 is INT8 (MlpModel::Quantized) is written with W1 as an INT8
// initializer cast to float in the graph and its per-row scales multiplied into
// the input (OpenCV 4.6 cannot run DequantizeLinear), so the file keeps the
// 4x smaller size.
//
// The featurization (hashing n-grams, TF-IDF) stays outside the graph: whoever
// serves the file sends the feature vector. Pure functions; the file is written
// whole under a temporary name and renamed into place.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "serving/mlp_model.h"

namespace closedloop {

struct LinearHead {
  int labels = 0;
  int dimension = 0;
  std::vector<float> weights;  // labels x dimension, row-major
};

struct ImageMlpHead {
  int channels = 1, height = 0, width = 0;  // the input image
  int hidden = 0, labels = 0;
  std::vector<float> w1;  // hidden x (channels * height * width), row-major
  std::vector<float> b1;  // hidden
  std::vector<float> w2;  // labels x hidden, row-major
  std::vector<float> b2;  // labels
};

struct OnnxExportInfo {
  std::string input;  // "features" or "sentence_vector"
  int64_t width = 0;  // D
  int labels = 0;
  int64_t bytes = 0;  // size of the written file
  bool int8 = false;  // W1 stored as INT8
};

StatusOr<OnnxExportInfo> ExportMlpToOnnx(const MlpModel& model, double temperature,
                                         const std::string& path);
StatusOr<OnnxExportInfo> ExportImageMlpToOnnx(const ImageMlpHead& head, const std::string& path);
StatusOr<OnnxExportInfo> ExportLinearToOnnx(const LinearHead& head, double temperature,
                                            const std::string& path);

}  // namespace closedloop
