// Encoding of an Open Inference Protocol v2 inference response:
//   {"model_name", "model_version", "id", "parameters": {"request_id"},
//    "outputs": [{"name", "datatype", "shape", "data"} |
//                {"name", "datatype", "shape", "parameters": {"binary_data_size": n}}]}
// With any binary output (binary tensor data extension), the body is that JSON
// header followed by the binary outputs' raw data in output order, and
// `header_length` is set: the server sends it as Inference-Header-Content-Length
// with Content-Type application/octet-stream, as Triton does.
// Thread safety: pure functions.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/json_writer.h"
#include "serving/tensor.h"

namespace closedloop {

struct ResponseOutput {
  const Tensor* tensor;  // not owned; outlives the call
  bool binary = false;
};

struct EncodedInferResponse {
  std::string body;
  std::optional<size_t> header_length;  // set when binary data follows the JSON
};

EncodedInferResponse EncodeInferResponse(std::string_view model, std::string_view version,
                                         std::string_view id, std::string_view request_id,
                                         const std::vector<ResponseOutput>& outputs);

// {"name", "datatype", "shape"} of a model's input or output (metadata).
void WriteTensorSpec(JsonWriter& w, const TensorSpec& spec);

}  // namespace closedloop
