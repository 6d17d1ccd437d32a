#include "serving/infer_request.h"

#include <cfloat>
#include <cmath>
#include <limits>

#include <simdjson.h>

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
  switch (t.datatype) {
    case DataType::kFp32:
      t.values = std::vector<float>();
      break;
    case DataType::kFp64:
      t.values = std::vector<double>();
      break;
    case DataType::kBool:
      t.values = std::vector<uint8_t>();
      break;
    case DataType::kBytes:
      t.values = std::vector<std::string>();
      break;
    case DataType::kUint64:
      t.values = std::vector<uint64_t>();
      break;
    default:
      t.values = std::vector<int64_t>();
      break;
  }
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

StatusOr<Tensor> ParseInput(element e, size_t index, size_t body_size, const InferLimits& limits) {
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
                           "' (BOOL, UINT8-64, INT8-64, FP32, FP64, BYTES)");
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
  element data;
  if (o["data"].get(data)) return InvalidArgument(where + "'data' is missing");
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

StatusOr<InferRequest> ParseInferRequest(std::string_view body, const InferLimits& limits) {
  thread_local simdjson::dom::parser parser;
  thread_local std::string padded;
  padded.assign(body);
  padded.resize(body.size() + simdjson::SIMDJSON_PADDING);
  element doc;
  if (auto error = parser.parse(padded.data(), body.size(), false).get(doc)) {
    return InvalidArgument(std::string("malformed JSON: ") + simdjson::error_message(error));
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
  if (element p; !obj["parameters"].get(p) && !p.is_object()) {
    return InvalidArgument("field 'parameters' must be an object");
  }
  simdjson::dom::array inputs;
  if (obj["inputs"].get(inputs)) return InvalidArgument("field 'inputs' must be an array");
  if (inputs.size() == 0) return InvalidArgument("field 'inputs' must not be empty");
  size_t i = 0;
  for (element e : inputs) {
    ASSIGN_OR_RETURN(Tensor t, ParseInput(e, i++, body.size(), limits));
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
      }
      req.outputs.push_back(std::move(out));
    }
  }
  return req;
}

}  // namespace closedloop
