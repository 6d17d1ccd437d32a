#include "serving/tensor.h"

#include <array>

namespace closedloop {
namespace {

constexpr std::array<std::pair<DataType, std::string_view>, 14> kNames = {{
    {DataType::kBool, "BOOL"},
    {DataType::kUint8, "UINT8"},
    {DataType::kUint16, "UINT16"},
    {DataType::kUint32, "UINT32"},
    {DataType::kUint64, "UINT64"},
    {DataType::kInt8, "INT8"},
    {DataType::kInt16, "INT16"},
    {DataType::kInt32, "INT32"},
    {DataType::kInt64, "INT64"},
    {DataType::kFp32, "FP32"},
    {DataType::kFp64, "FP64"},
    {DataType::kBytes, "BYTES"},
    {DataType::kFp16, "FP16"},
    {DataType::kBf16, "BF16"},
}};

}  // namespace

std::string_view DataTypeName(DataType t) {
  for (const auto& [type, name] : kNames) {
    if (type == t) return name;
  }
  return "UNKNOWN";
}

std::optional<DataType> ParseDataType(std::string_view name) {
  for (const auto& [type, n] : kNames) {
    if (n == name) return type;
  }
  return std::nullopt;
}

size_t ElementByteSize(DataType t) {
  switch (t) {
    case DataType::kBool:
    case DataType::kUint8:
    case DataType::kInt8:
      return 1;
    case DataType::kUint16:
    case DataType::kInt16:
    case DataType::kFp16:
    case DataType::kBf16:
      return 2;
    case DataType::kUint32:
    case DataType::kInt32:
    case DataType::kFp32:
      return 4;
    case DataType::kUint64:
    case DataType::kInt64:
    case DataType::kFp64:
      return 8;
    case DataType::kBytes:
      return 0;
  }
  return 0;
}

TensorValues EmptyValues(DataType t) {
  switch (t) {
    case DataType::kFp32:
      return std::vector<float>();
    case DataType::kFp64:
      return std::vector<double>();
    case DataType::kBool:
      return std::vector<uint8_t>();
    case DataType::kBytes:
      return std::vector<std::string>();
    case DataType::kUint64:
      return std::vector<uint64_t>();
    case DataType::kFp16:
    case DataType::kBf16:
      return std::vector<uint16_t>();
    default:
      return std::vector<int64_t>();
  }
}

size_t Tensor::size() const {
  return std::visit([](const auto& v) { return v.size(); }, values);
}

std::optional<uint64_t> ElementCount(const std::vector<int64_t>& shape, uint64_t limit) {
  uint64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) return std::nullopt;
    if (d != 0 && n > limit / static_cast<uint64_t>(d)) return std::nullopt;
    n *= static_cast<uint64_t>(d);
  }
  return n;
}

std::string ShapeString(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i) s += ",";
    s += std::to_string(shape[i]);
  }
  return s + "]";
}

}  // namespace closedloop
