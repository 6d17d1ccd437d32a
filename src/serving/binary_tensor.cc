#include "serving/binary_tensor.h"

#include <bit>
#include <cstring>

namespace closedloop {

static_assert(std::endian::native == std::endian::little,
              "binary tensor data is little-endian; a big-endian host needs byte swaps");

namespace {

template <typename Wire, typename Stored>
void DecodeFixed(std::string_view segment, uint64_t count, std::vector<Stored>& out) {
  out.resize(count);
  for (uint64_t i = 0; i < count; ++i) {
    Wire w;
    std::memcpy(&w, segment.data() + i * sizeof(Wire), sizeof(Wire));
    out[i] = static_cast<Stored>(w);
  }
}

template <typename Wire, typename Stored>
void EncodeFixed(const std::vector<Stored>& values, std::string& out) {
  const size_t at = out.size();
  out.resize(at + values.size() * sizeof(Wire));
  char* p = out.data() + at;
  for (const Stored& v : values) {
    const Wire w = static_cast<Wire>(v);
    std::memcpy(p, &w, sizeof(Wire));
    p += sizeof(Wire);
  }
}

Status DecodeBytes(std::string_view segment, uint64_t count, const std::string& where,
                   size_t max_bytes_element, std::vector<std::string>& out) {
  size_t pos = 0;
  for (uint64_t i = 0; i < count; ++i) {
    if (segment.size() - pos < 4) {
      return InvalidArgument(where + "BYTES element " + std::to_string(i) +
                             ": its 4-byte length prefix is past the end of the binary data (" +
                             std::to_string(segment.size() - pos) + " bytes left)");
    }
    uint32_t len = 0;
    std::memcpy(&len, segment.data() + pos, 4);
    pos += 4;
    if (len > segment.size() - pos) {
      return InvalidArgument(where + "BYTES element " + std::to_string(i) + " has length " +
                             std::to_string(len) + ", past the end of the binary data (" +
                             std::to_string(segment.size() - pos) + " bytes left)");
    }
    if (len > max_bytes_element) {
      return InvalidArgument(where + "a BYTES element is " + std::to_string(len) +
                             " bytes; the limit is " + std::to_string(max_bytes_element));
    }
    out.emplace_back(segment.substr(pos, len));
    pos += len;
  }
  if (pos != segment.size()) {
    return InvalidArgument(where + "binary_data_size is " + std::to_string(segment.size()) +
                           " bytes but its " + std::to_string(count) + " BYTES elements take " +
                           std::to_string(pos));
  }
  return OkStatus();
}

float BitsToFloat(uint32_t bits) { return std::bit_cast<float>(bits); }

}  // namespace

Status DecodeBinaryTensor(std::string_view segment, uint64_t count, const std::string& where,
                          size_t max_bytes_element, Tensor& t) {
  t.values = EmptyValues(t.datatype);
  if (t.datatype == DataType::kBytes) {
    auto& out = std::get<std::vector<std::string>>(t.values);
    // Every element takes at least its 4-byte prefix: a larger count is a lie.
    if (count > segment.size() / 4) {
      return InvalidArgument(where + "shape " + ShapeString(t.shape) + " needs " +
                             std::to_string(count) + " BYTES elements (at least " +
                             std::to_string(count * 4) + " bytes) but binary_data_size is " +
                             std::to_string(segment.size()));
    }
    out.reserve(count);
    return DecodeBytes(segment, count, where, max_bytes_element, out);
  }
  const size_t width = ElementByteSize(t.datatype);
  if (segment.size() % width != 0 || segment.size() / width != count) {
    return InvalidArgument(where + "shape " + ShapeString(t.shape) + " of " +
                           std::string(DataTypeName(t.datatype)) + " needs " +
                           std::to_string(count * width) + " bytes but binary_data_size is " +
                           std::to_string(segment.size()));
  }
  switch (t.datatype) {
    case DataType::kBool: {
      auto& out = std::get<std::vector<uint8_t>>(t.values);
      DecodeFixed<uint8_t>(segment, count, out);
      for (uint64_t i = 0; i < count; ++i) {
        if (out[i] > 1) {
          return InvalidArgument(where + "BOOL element " + std::to_string(i) + " is byte " +
                                 std::to_string(out[i]) + "; only 0 and 1 are booleans");
        }
      }
      return OkStatus();
    }
    case DataType::kUint8:
      DecodeFixed<uint8_t>(segment, count, std::get<std::vector<int64_t>>(t.values));
      return OkStatus();
    case DataType::kUint16:
      DecodeFixed<uint16_t>(segment, count, std::get<std::vector<int64_t>>(t.values));
      return OkStatus();
    case DataType::kUint32:
      DecodeFixed<uint32_t>(segment, count, std::get<std::vector<int64_t>>(t.values));
      return OkStatus();
    case DataType::kInt8:
      DecodeFixed<int8_t>(segment, count, std::get<std::vector<int64_t>>(t.values));
      return OkStatus();
    case DataType::kInt16:
      DecodeFixed<int16_t>(segment, count, std::get<std::vector<int64_t>>(t.values));
      return OkStatus();
    case DataType::kInt32:
      DecodeFixed<int32_t>(segment, count, std::get<std::vector<int64_t>>(t.values));
      return OkStatus();
    case DataType::kInt64:
      DecodeFixed<int64_t>(segment, count, std::get<std::vector<int64_t>>(t.values));
      return OkStatus();
    case DataType::kUint64:
      DecodeFixed<uint64_t>(segment, count, std::get<std::vector<uint64_t>>(t.values));
      return OkStatus();
    case DataType::kFp32:
      DecodeFixed<float>(segment, count, std::get<std::vector<float>>(t.values));
      return OkStatus();
    case DataType::kFp64:
      DecodeFixed<double>(segment, count, std::get<std::vector<double>>(t.values));
      return OkStatus();
    case DataType::kFp16:
    case DataType::kBf16:
      DecodeFixed<uint16_t>(segment, count, std::get<std::vector<uint16_t>>(t.values));
      return OkStatus();
    case DataType::kBytes:
      break;
  }
  return Internal("unhandled datatype");
}

size_t BinaryTensorSize(const Tensor& t) {
  if (const auto* s = t.As<std::string>()) {
    size_t n = 0;
    for (const std::string& e : *s) n += 4 + e.size();
    return n;
  }
  return t.size() * ElementByteSize(t.datatype);
}

void AppendBinaryTensor(const Tensor& t, std::string& out) {
  switch (t.datatype) {
    case DataType::kBool:
      return EncodeFixed<uint8_t>(std::get<std::vector<uint8_t>>(t.values), out);
    case DataType::kUint8:
      return EncodeFixed<uint8_t>(std::get<std::vector<int64_t>>(t.values), out);
    case DataType::kUint16:
      return EncodeFixed<uint16_t>(std::get<std::vector<int64_t>>(t.values), out);
    case DataType::kUint32:
      return EncodeFixed<uint32_t>(std::get<std::vector<int64_t>>(t.values), out);
    case DataType::kInt8:
      return EncodeFixed<int8_t>(std::get<std::vector<int64_t>>(t.values), out);
    case DataType::kInt16:
      return EncodeFixed<int16_t>(std::get<std::vector<int64_t>>(t.values), out);
    case DataType::kInt32:
      return EncodeFixed<int32_t>(std::get<std::vector<int64_t>>(t.values), out);
    case DataType::kInt64:
      return EncodeFixed<int64_t>(std::get<std::vector<int64_t>>(t.values), out);
    case DataType::kUint64:
      return EncodeFixed<uint64_t>(std::get<std::vector<uint64_t>>(t.values), out);
    case DataType::kFp32: {
      const auto& v = std::get<std::vector<float>>(t.values);
      out.append(reinterpret_cast<const char*>(v.data()), v.size() * sizeof(float));
      return;
    }
    case DataType::kFp64:
      return EncodeFixed<double>(std::get<std::vector<double>>(t.values), out);
    case DataType::kFp16:
    case DataType::kBf16:
      return EncodeFixed<uint16_t>(std::get<std::vector<uint16_t>>(t.values), out);
    case DataType::kBytes:
      for (const std::string& e : std::get<std::vector<std::string>>(t.values)) {
        const uint32_t len = static_cast<uint32_t>(e.size());
        out.append(reinterpret_cast<const char*>(&len), 4);
        out.append(e);
      }
      return;
  }
}

float HalfToFloat(uint16_t h) {
  const uint32_t sign = static_cast<uint32_t>(h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1fu;
  uint32_t mant = h & 0x3ffu;
  if (exp == 0x1f) return BitsToFloat(sign | 0x7f800000u | (mant << 13));  // Inf / NaN
  if (exp != 0) return BitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  if (mant == 0) return BitsToFloat(sign);  // signed zero
  // Subnormal half: normalize into a float.
  int e = -1;
  do {
    ++e;
    mant <<= 1;
  } while ((mant & 0x400u) == 0);
  return BitsToFloat(sign | (static_cast<uint32_t>(112 - e) << 23) | ((mant & 0x3ffu) << 13));
}

float Bfloat16ToFloat(uint16_t bits) { return BitsToFloat(static_cast<uint32_t>(bits) << 16); }

}  // namespace closedloop
