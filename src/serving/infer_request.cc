#include "serving/infer_request.h"

#include <cfloat>
#include <charconv>
#include <cmath>
#include <limits>

#include <simdjson.h>

#include "serving/binary_tensor.h"

namespace closedloop {
namespace {

using simdjson::dom::element;
using simdjson::dom::element_type;

struct Range {
  int64_t min, max;
};

Range IntRange(DataType t) {
  switch (t) {
    case DataType::kInt8:
      return {INT8_MIN, INT8_MAX};
    case DataType::kInt16:
      return {INT16_MIN, INT16_MAX};
    case DataType::kInt32:
      return {INT32_MIN, INT32_MAX};
    case DataType::kUint8:
      return {0, UINT8_MAX};
    case DataType::kUint16:
      return {0, UINT16_MAX};
    case DataType::kUint32:
      return {0, UINT32_MAX};
    default:
      return {INT64_MIN, INT64_MAX};
  }
}

class DataReader {
 public:
  DataReader(const std::string& where, DataType type, size_t max_depth, size_t max_bytes_element)
      : where_(where), type_(type), max_depth_(max_depth), max_bytes_(max_bytes_element) {}

  Status Read(element e, Tensor& t, size_t depth = 0) {
    if (e.type() == element_type::ARRAY) {
      if (depth >= max_depth_) {
        return InvalidArgument(where_ + "'data' is nested deeper than the shape");
      }
      simdjson::dom::array children;  // a handle into the parsed document
      if (e.get(children)) return InvalidArgument(where_ + "'data' is not an array");
      for (element child : children) RETURN_IF_ERROR(Read(child, t, depth + 1));
      return OkStatus();
    }
    if (depth == 0) return InvalidArgument(where_ + "'data' must be an array");
    return Append(e, t);
  }

 private:
  Status TypeError(std::string_view expected) {
    return InvalidArgument(where_ + "'data' holds a value that is not " + std::string(expected) +
                           " (datatype " + std::string(DataTypeName(type_)) + ")");
  }

  Status Append(element e, Tensor& t) {
    switch (type_) {
      case DataType::kFp32:
      case DataType::kFp64: {
        double v = 0;
        if (e.type() == element_type::INT64) {
          v = static_cast<double>(e.get_int64().value_unsafe());
        } else if (e.type() == element_type::UINT64) {
          v = static_cast<double>(e.get_uint64().value_unsafe());
        } else if (e.type() == element_type::DOUBLE) {
          v = e.get_double().value_unsafe();
        } else {
          return TypeError("a number");
        }
        if (type_ == DataType::kFp64) {
          std::get<std::vector<double>>(t.values).push_back(v);
        } else {
          if (!std::isfinite(v) || std::fabs(v) > FLT_MAX) {
            return InvalidArgument(where_ + "'data' holds " + std::to_string(v) +
                                   ", out of range for FP32");
          }
          std::get<std::vector<float>>(t.values).push_back(static_cast<float>(v));
        }
        return OkStatus();
      }
      case DataType::kBool: {
        if (e.type() != element_type::BOOL) return TypeError("a boolean");
        std::get<std::vector<uint8_t>>(t.values).push_back(e.get_bool().value_unsafe() ? 1 : 0);
        return OkStatus();
      }
      case DataType::kBytes: {
        if (e.type() != element_type::STRING) return TypeError("a string");
        std::string_view s = e.get_string().value_unsafe();
        if (s.size() > max_bytes_) {
          return InvalidArgument(where_ + "a BYTES element is " + std::to_string(s.size()) +
                                 " bytes; the limit is " + std::to_string(max_bytes_));
        }
        std::get<std::vector<std::string>>(t.values).emplace_back(s);
        return OkStatus();
      }
      case DataType::kUint64: {
        uint64_t v = 0;
        if (e.type() == element_type::UINT64) {
          v = e.get_uint64().value_unsafe();
        } else if (e.type() == element_type::INT64 && e.get_int64().value_unsafe() >= 0) {
          v = static_cast<uint64_t>(e.get_int64().value_unsafe());
        } else {
          return TypeError("a non-negative integer");
        }
        std::get<std::vector<uint64_t>>(t.values).push_back(v);
        return OkStatus();
      }
      default: {
        if (e.type() != element_type::INT64) {
          if (e.type() == element_type::UINT64) {
            return InvalidArgument(where_ + "'data' holds a value out of range for " +
                                   std::string(DataTypeName(type_)));
          }
          return TypeError("an integer");
        }
        int64_t v = e.get_int64().value_unsafe();
        Range r = IntRange(type_);
        if (v < r.min || v > r.max) {
          return InvalidArgument(where_ + "'data' holds " + std::to_string(v) +
                                 ", out of range for " + std::string(DataTypeName(type_)));
        }
        std::get<std::vector<int64_t>>(t.values).push_back(v);
        return OkStatus();
      }
    }
  }

  const std::string& where_;
  DataType type_;
  size_t max_depth_;
  size_t max_bytes_;
};

void InitStorage(Tensor& t, uint64_t count) {
  t.values = EmptyValues(t.datatype);
  std::visit([count](auto& v) { v.reserve(count); }, t.values);
}

Status CheckKeys(simdjson::dom::object o, const std::string& where,
                 std::initializer_list<std::string_view> allowed) {
  for (auto field : o) {
    bool ok = false;
    for (auto a : allowed) ok = ok || field.key == a;
    if (!ok) return InvalidArgument(where + "unknown field '" + std::string(field.key) + "'");
  }
  return OkStatus();
}

// The part of the body after the JSON header, consumed by binary inputs in order.
struct BinaryCursor {
  std::string_view data;
  size_t pos = 0;
  bool present = false;  // the request had Inference-Header-Content-Length
};

StatusOr<Tensor> ParseInput(element e, size_t index, size_t body_size, const InferLimits& limits,
                            BinaryCursor& binary) {
  std::string where = "inputs[" + std::to_string(index) + "]: ";
  simdjson::dom::object o;
  if (e.get(o)) return InvalidArgument(where + "must be an object");
  RETURN_IF_ERROR(CheckKeys(o, where, {"name", "shape", "datatype", "parameters", "data"}));
  Tensor t;
  std::string_view name;
  if (o["name"].get(name) || name.empty()) {
    return InvalidArgument(where + "'name' must be a non-empty string");
  }
  t.name = name;
  where = "input '" + t.name + "': ";
  std::string_view dtype;
  if (o["datatype"].get(dtype)) return InvalidArgument(where + "'datatype' must be a string");
  auto parsed_type = ParseDataType(dtype);
  if (!parsed_type) {
    return InvalidArgument(where + "unsupported datatype '" + std::string(dtype) +
                           "' (BOOL, UINT8-64, INT8-64, FP16, BF16, FP32, FP64, BYTES)");
  }
  t.datatype = *parsed_type;
  simdjson::dom::array shape;
  if (o["shape"].get(shape)) return InvalidArgument(where + "'shape' must be an array of integers");
  if (shape.size() > limits.max_dims) {
    return InvalidArgument(where + "'shape' has " + std::to_string(shape.size()) +
                           " dimensions; at most " + std::to_string(limits.max_dims));
  }
  for (element d : shape) {
    int64_t v = 0;
    if (d.get(v) || v < 0) {
      return InvalidArgument(where + "'shape' must hold non-negative integers");
    }
    t.shape.push_back(v);
  }
  // Every element needs at least one byte of the body: a larger shape is a lie, and
  // is refused before anything is allocated for it.
  auto count = ElementCount(t.shape, std::min<uint64_t>(limits.max_elements, body_size));
  if (!count) {
    return InvalidArgument(where + "shape " + ShapeString(t.shape) + " is too large (at most " +
                           std::to_string(std::min<uint64_t>(limits.max_elements, body_size)) +
                           " elements in this request)");
  }
  std::optional<uint64_t> binary_size;
  if (element params; !o["parameters"].get(params)) {
    simdjson::dom::object po;
    if (params.get(po)) return InvalidArgument(where + "'parameters' must be an object");
    if (element size; !po["binary_data_size"].get(size)) {
      int64_t v = 0;
      if (size.get(v) || v < 0) {
        return InvalidArgument(where + "'binary_data_size' must be a non-negative integer");
      }
      binary_size = static_cast<uint64_t>(v);
    }
  }
  element data;
  const bool has_data = !o["data"].get(data);
  if (binary_size) {
    if (has_data) {
      return InvalidArgument(where + "has both 'data' and 'binary_data_size'; send one");
    }
    if (!binary.present) {
      return InvalidArgument(where +
                             "'binary_data_size' needs binary data after the JSON header, but the "
                             "request has no Inference-Header-Content-Length field");
    }
    const size_t left = binary.data.size() - binary.pos;
    if (*binary_size > left) {
      return InvalidArgument(where + "binary_data_size " + std::to_string(*binary_size) +
                             " goes past the end of the body (" + std::to_string(left) +
                             " bytes of binary data left)");
    }
    RETURN_IF_ERROR(DecodeBinaryTensor(binary.data.substr(binary.pos, *binary_size), *count, where,
                                       limits.max_bytes_element, t));
    binary.pos += *binary_size;
    return t;
  }
  if (!has_data) return InvalidArgument(where + "'data' is missing");
  if (t.datatype == DataType::kFp16 || t.datatype == DataType::kBf16) {
    return InvalidArgument(where + std::string(DataTypeName(t.datatype)) +
                           " has no JSON form; send it as binary data ('binary_data_size')");
  }
  InitStorage(t, *count);
  DataReader reader(where, t.datatype, std::max<size_t>(1, t.shape.size()),
                    limits.max_bytes_element);
  RETURN_IF_ERROR(reader.Read(data, t));
  if (t.size() != *count) {
    return InvalidArgument(where + "shape " + ShapeString(t.shape) + " has " +
                           std::to_string(*count) + " elements but 'data' has " +
                           std::to_string(t.size()));
  }
  return t;
}

}  // namespace

StatusOr<uint64_t> ParseHeaderLength(std::string_view value) {
  uint64_t n = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (value.empty() || ec != std::errc() || end != value.data() + value.size()) {
    return InvalidArgument("Inference-Header-Content-Length must be a byte count, not '" +
                           std::string(value.substr(0, 40)) + "'");
  }
  return n;
}

StatusOr<InferRequest> ParseInferRequest(std::string_view body, const InferLimits& limits,
                                         std::optional<uint64_t> header_length) {
  BinaryCursor binary;
  std::string_view json = body;
  if (header_length) {
    if (*header_length > body.size()) {
      return InvalidArgument("Inference-Header-Content-Length is " +
                             std::to_string(*header_length) + ", past the end of the " +
                             std::to_string(body.size()) + "-byte body");
    }
    json = body.substr(0, *header_length);
    binary.data = body.substr(*header_length);
    binary.present = true;
  }
  thread_local simdjson::dom::parser parser;
  thread_local std::string padded;
  padded.assign(json);
  padded.resize(json.size() + simdjson::SIMDJSON_PADDING);
  element doc;
  if (auto error = parser.parse(padded.data(), json.size(), false).get(doc)) {
    std::string message = std::string("malformed JSON: ") + simdjson::error_message(error);
    if (!header_length && !json.empty()) {
      message +=
          " (a body with binary tensor data needs the Inference-Header-Content-Length "
          "header giving the JSON part's length)";
    }
    return InvalidArgument(std::move(message));
  }
  simdjson::dom::object obj;
  if (doc.get(obj)) return InvalidArgument("request body must be a JSON object");
  RETURN_IF_ERROR(CheckKeys(obj, "", {"id", "parameters", "inputs", "outputs"}));
  InferRequest req;
  if (element id; !obj["id"].get(id)) {
    std::string_view s;
    if (id.get(s)) return InvalidArgument("field 'id' must be a string");
    req.id = s;
  }
  if (element p; !obj["parameters"].get(p)) {
    simdjson::dom::object po;
    if (p.get(po)) return InvalidArgument("field 'parameters' must be an object");
    if (element b; !po["binary_data_output"].get(b)) {
      if (b.get(req.binary_data_output)) {
        return InvalidArgument("parameter 'binary_data_output' must be a boolean");
      }
    }
  }
  simdjson::dom::array inputs;
  if (obj["inputs"].get(inputs)) return InvalidArgument("field 'inputs' must be an array");
  if (inputs.size() == 0) return InvalidArgument("field 'inputs' must not be empty");
  size_t i = 0;
  for (element e : inputs) {
    ASSIGN_OR_RETURN(Tensor t, ParseInput(e, i++, body.size(), limits, binary));
    for (const auto& other : req.inputs) {
      if (other.name == t.name) return InvalidArgument("input '" + t.name + "' given twice");
    }
    req.inputs.push_back(std::move(t));
  }
  if (element outs; !obj["outputs"].get(outs)) {
    simdjson::dom::array arr;
    if (outs.get(arr)) return InvalidArgument("field 'outputs' must be an array");
    size_t j = 0;
    for (element e : arr) {
      std::string where = "outputs[" + std::to_string(j++) + "]: ";
      simdjson::dom::object o;
      if (e.get(o)) return InvalidArgument(where + "must be an object");
      RETURN_IF_ERROR(CheckKeys(o, where, {"name", "parameters"}));
      RequestedOutput out;
      std::string_view name;
      if (o["name"].get(name) || name.empty()) {
        return InvalidArgument(where + "'name' must be a non-empty string");
      }
      out.name = name;
      if (element params; !o["parameters"].get(params)) {
        if (!params.is_object()) return InvalidArgument(where + "'parameters' must be an object");
        if (element k; !params["classification"].get(k)) {
          int64_t v = 0;
          if (k.get(v) || v < 1 || v > 1000) {
            return InvalidArgument(where + "'classification' must be an integer 1-1000");
          }
          out.classification = static_cast<int>(v);
        }
        if (element b; !params["binary_data"].get(b)) {
          bool v = false;
          if (b.get(v)) return InvalidArgument(where + "'binary_data' must be a boolean");
          out.binary = v;
        }
      }
      for (const auto& other : req.outputs) {
        if (other.name == out.name) {
          return InvalidArgument("output '" + out.name + "' requested twice");
        }
      }
      req.outputs.push_back(std::move(out));
    }
  }
  req.has_binary_inputs = binary.pos > 0;
  if (binary.pos != binary.data.size()) {
    return InvalidArgument(std::to_string(binary.data.size() - binary.pos) +
                           " bytes after the JSON header belong to no input (binary_data_size "
                           "of the inputs adds up to " +
                           std::to_string(binary.pos) + ")");
  }
  return req;
}

}  // namespace closedloop
