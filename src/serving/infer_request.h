// Parsing and validation of an Open Inference Protocol v2 inference request:
//   {"id"?: str, "parameters"?: {..}, "inputs": [{"name", "shape", "datatype",
//    "parameters"?, "data"}], "outputs"?: [{"name", "parameters"?: {"classification"?: k}}]}
//
// Data may be nested ([[1,2],[3,4]]) or flat; either way the element count must
// equal the product of the shape. A shape is checked against the body size before
// anything is allocated (every JSON element takes at least one byte), so a huge
// shape in a small body cannot make the server allocate. Errors name the input and
// field. Total over any byte string (fuzzed). Thread-safe (thread-local parser).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "serving/tensor.h"

namespace closedloop {

struct RequestedOutput {
  std::string name;
  int classification = 0;  // > 0: return the top k as "p:index:label" strings (Triton's form)
};

struct InferRequest {
  std::string id;
  std::vector<Tensor> inputs;
  std::vector<RequestedOutput> outputs;  // empty: every output
};

struct InferLimits {
  size_t max_dims = 8;
  uint64_t max_elements = 16 * 1024 * 1024;
  size_t max_bytes_element = 1 << 20;  // one BYTES element
};

StatusOr<InferRequest> ParseInferRequest(std::string_view body, const InferLimits& limits = {});

}  // namespace closedloop
