// Small ONNX models written with libonnx for tests, with their weights exposed so
// tests can compute the expected outputs independently.
#pragma once

#include <string>
#include <vector>

namespace closedloop::testing {

// X[N,4] -> Gemm(W1[8,4], transB=1) + B1 -> Relu -> Gemm(W2[3,8], transB=1) + B2 -> Softmax ->
// Y[N,3]
struct Mlp {
  std::vector<float> w1, b1, w2, b2;  // row-major
};
Mlp WriteMlpModel(const std::string& path);
std::vector<float> MlpReference(const Mlp& m, const std::vector<float>& x, int rows);

// X[1,1,5,5] -> Conv(W[2,1,3,3], B[2]) -> Relu -> Y[1,2,3,3]
struct ConvNet {
  std::vector<float> w, b;
};
ConvNet WriteConvModel(const std::string& path);
std::vector<float> ConvReference(const ConvNet& c, const std::vector<float>& x);

// A[N,3] + B[N,3] -> Add -> Y[N,3]: a model with two inputs.
void WriteAddModel(const std::string& path);

// X[1,4] -> LayerNormalization(scale, bias) -> Y[1,4] (opset 17): OpenCV 4.6 cannot run it.
void WriteLayerNormModel(const std::string& path);

}  // namespace closedloop::testing
