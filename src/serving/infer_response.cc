#include "serving/infer_response.h"

#include "serving/binary_tensor.h"

namespace closedloop {
namespace {

// {"name", "datatype", "shape": [...]  (the object is left open)
void WriteTensorHeader(JsonWriter& w, const std::string& name, DataType type,
                       const std::vector<int64_t>& shape) {
  w.BeginObject().Key("name").String(name).Key("datatype").String(DataTypeName(type));
  w.Key("shape").BeginArray();
  for (int64_t d : shape) w.Int(d);
  w.EndArray();
}

void WriteData(JsonWriter& w, const Tensor& t) {
  w.BeginArray();
  const bool bf16 = t.datatype == DataType::kBf16;
  std::visit(
      [&w, bf16](const auto& values) {
        using V = typename std::decay_t<decltype(values)>::value_type;
        for (const auto& v : values) {
          if constexpr (std::is_same_v<V, std::string>) {
            w.String(v);
          } else if constexpr (std::is_same_v<V, uint8_t>) {
            w.Bool(v != 0);
          } else if constexpr (std::is_same_v<V, float> || std::is_same_v<V, double>) {
            w.Double(v);
          } else if constexpr (std::is_same_v<V, uint16_t>) {  // FP16 / BF16 bits
            w.Double(bf16 ? Bfloat16ToFloat(v) : HalfToFloat(v));
          } else if constexpr (std::is_same_v<V, uint64_t>) {
            w.Uint(v);
          } else {
            w.Int(v);
          }
        }
      },
      t.values);
  w.EndArray();
}

}  // namespace

void WriteTensorSpec(JsonWriter& w, const TensorSpec& s) {
  WriteTensorHeader(w, s.name, s.datatype, s.shape);
  w.EndObject();
}

EncodedInferResponse EncodeInferResponse(std::string_view model, std::string_view version,
                                         std::string_view id, std::string_view request_id,
                                         const std::vector<ResponseOutput>& outputs) {
  size_t binary_bytes = 0;
  for (const ResponseOutput& o : outputs) {
    if (o.binary) binary_bytes += BinaryTensorSize(*o.tensor);
  }
  JsonWriter w(4096);
  w.BeginObject()
      .Key("model_name")
      .String(model)
      .Key("model_version")
      .String(version)
      .Key("id")
      .String(id)
      .Key("parameters")
      .BeginObject()
      .Key("request_id")
      .String(request_id)
      .EndObject()
      .Key("outputs")
      .BeginArray();
  bool any_binary = false;
  for (const ResponseOutput& o : outputs) {
    const Tensor& t = *o.tensor;
    WriteTensorHeader(w, t.name, t.datatype, t.shape);
    if (o.binary) {
      any_binary = true;
      w.Key("parameters")
          .BeginObject()
          .Key("binary_data_size")
          .Uint(BinaryTensorSize(t))
          .EndObject();
    } else {
      w.Key("data");
      WriteData(w, t);
    }
    w.EndObject();
  }
  w.EndArray().EndObject();
  EncodedInferResponse out;
  out.body = std::move(w).Take();
  if (!any_binary) return out;
  out.header_length = out.body.size();
  out.body.reserve(out.body.size() + binary_bytes);
  for (const ResponseOutput& o : outputs) {
    if (o.binary) AppendBinaryTensor(*o.tensor, out.body);
  }
  return out;
}

}  // namespace closedloop
