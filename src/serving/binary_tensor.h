// Binary tensor data, as the Open Inference Protocol's binary tensor data extension
// (Triton's "binary_tensor_data", KServe v2) carries it after the JSON header of a
// request or response: little-endian, row-major, no stride or padding; BOOL is one
// byte (0 or 1); each BYTES element is a 4-byte little-endian unsigned length and
// then that many bytes.
//
// Decoding is total over any byte string (fuzzed through the infer request parser):
// a segment that does not hold exactly `count` elements of the tensor's datatype is
// an error naming the input, never a read past the segment.
// Thread safety: pure functions.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/status.h"
#include "serving/tensor.h"

namespace closedloop {

// Fills t.values (t.datatype set by the caller) with `count` elements read from
// `segment`. `where` prefixes messages ("input 'x': "); a BYTES element longer than
// `max_bytes_element` is refused.
Status DecodeBinaryTensor(std::string_view segment, uint64_t count, const std::string& where,
                          size_t max_bytes_element, Tensor& t);

// Bytes of t's binary form (what a response announces as binary_data_size).
size_t BinaryTensorSize(const Tensor& t);
// Appends t's binary form to `out`.
void AppendBinaryTensor(const Tensor& t, std::string& out);

// IEEE 754 half and bfloat16 bits to float (exact), for JSON views of such tensors.
float HalfToFloat(uint16_t bits);
float Bfloat16ToFloat(uint16_t bits);

}  // namespace closedloop
