// Parsing and validation of an Open Inference Protocol v2 inference request:
//   {"id"?: str, "parameters"?: {"binary_data_output"?: bool, ..},
//    "inputs": [{"name", "shape", "datatype", "parameters"?: {"binary_data_size"?: n},
//                "data"?}],
//    "outputs"?: [{"name", "parameters"?: {"classification"?: k, "binary_data"?: bool}}]}
//
// With the binary tensor data extension the body is the JSON header (its length
// given by the Inference-Header-Content-Length field, `header_length`) followed by
// the raw data of every input that has "binary_data_size", in input order; such an
// input has no "data". Every byte after the header must belong to one of them.
//
// JSON data may be nested ([[1,2],[3,4]]) or flat; either way the element count must
// equal the product of the shape. A shape is checked against the body size before
// anything is allocated (every JSON element takes at least one byte), so a huge
// shape in a small body cannot make the server allocate. Errors name the input and
// field. Total over any byte string (fuzzed). Thread-safe (thread-local parser).
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "serving/tensor.h"

namespace closedloop {

struct RequestedOutput {
  std::string name;
  int classification = 0;      // > 0: return the top k as "p:index:label" strings (Triton's form)
  std::optional<bool> binary;  // "binary_data"; unset: the request's binary_data_output
};

struct InferRequest {
  std::string id;
  bool binary_data_output = false;  // default of outputs that do not say "binary_data"
  bool has_binary_inputs = false;
  std::vector<Tensor> inputs;
  std::vector<RequestedOutput> outputs;  // empty: every output
};

struct InferLimits {
  size_t max_dims = 8;
  uint64_t max_elements = 16 * 1024 * 1024;
  size_t max_bytes_element = 1 << 20;  // one BYTES element
};

// `header_length`: the Inference-Header-Content-Length value, if the request had one.
StatusOr<InferRequest> ParseInferRequest(std::string_view body, const InferLimits& limits = {},
                                         std::optional<uint64_t> header_length = std::nullopt);

// The Inference-Header-Content-Length field's value: a decimal byte count.
StatusOr<uint64_t> ParseHeaderLength(std::string_view value);

}  // namespace closedloop
