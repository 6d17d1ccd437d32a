// Tensor: a named, typed, shaped block of values as the Open Inference Protocol
// (KServe v2 / Triton) carries them. Row-major, no padding.
//
// Storage per datatype: FP32 -> float, FP64 -> double, BOOL -> uint8_t (0/1),
// INT8..INT64 and UINT8..UINT32 -> int64_t (range-checked for the declared type),
// UINT64 -> uint64_t, BYTES -> std::string, FP16 and BF16 -> uint16_t (the raw
// IEEE half / bfloat16 bits). FP16 and BF16 have no JSON form: they travel only as
// binary tensor data (serving/binary_tensor.h).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace closedloop {

enum class DataType {
  kBool,
  kUint8,
  kUint16,
  kUint32,
  kUint64,
  kInt8,
  kInt16,
  kInt32,
  kInt64,
  kFp32,
  kFp64,
  kBytes,
  kFp16,
  kBf16
};

std::string_view DataTypeName(DataType t);
std::optional<DataType> ParseDataType(std::string_view name);
// Bytes of one element in the binary form; 0 for BYTES (variable length).
size_t ElementByteSize(DataType t);

using TensorValues = std::variant<std::vector<float>, std::vector<double>, std::vector<int64_t>,
                                  std::vector<uint64_t>, std::vector<uint8_t>,
                                  std::vector<std::string>, std::vector<uint16_t>>;

// An empty value vector of the storage type of `t`.
TensorValues EmptyValues(DataType t);

struct Tensor {
  std::string name;
  DataType datatype = DataType::kFp32;
  std::vector<int64_t> shape;
  TensorValues values;

  size_t size() const;  // number of elements stored
  template <typename T>
  const std::vector<T>* As() const {
    return std::get_if<std::vector<T>>(&values);
  }
};

// Product of the dimensions, or nullopt on a negative dimension or on overflow past `limit`.
std::optional<uint64_t> ElementCount(const std::vector<int64_t>& shape, uint64_t limit);

// "[2,3]"
std::string ShapeString(const std::vector<int64_t>& shape);

// Metadata of a model's input or output (-1 marks a variable dimension).
struct TensorSpec {
  std::string name;
  DataType datatype;
  std::vector<int64_t> shape;
};

}  // namespace closedloop
