#include "support/onnx_models.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <stdexcept>

namespace closedloop::testing {
namespace {

std::vector<float> Values(size_t n, float seed) {
  std::vector<float> v(n);
  for (size_t i = 0; i < n; ++i) v[i] = std::sin(seed + static_cast<float>(i) * 0.731f) * 0.5f;
  return v;
}

void AddInit(onnx::GraphProto* g, const std::string& name, const std::vector<int64_t>& dims,
             const std::vector<float>& data) {
  onnx::TensorProto* t = g->add_initializer();
  t->set_name(name);
  t->set_data_type(onnx::TensorProto_DataType_FLOAT);
  for (int64_t d : dims) t->add_dims(d);
  for (float f : data) t->add_float_data(f);
}

void AddValue(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>* list,
              const std::string& name, const std::vector<int64_t>& dims) {
  onnx::ValueInfoProto* v = list->Add();
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto_DataType_FLOAT);
  for (int64_t d : dims) {
    auto* dim = tt->mutable_shape()->add_dim();
    if (d < 0) {
      dim->set_dim_param("N");
    } else {
      dim->set_dim_value(d);
    }
  }
}

onnx::NodeProto* AddNode(onnx::GraphProto* g, const std::string& op,
                         const std::vector<std::string>& in, const std::string& out) {
  onnx::NodeProto* n = g->add_node();
  n->set_op_type(op);
  n->set_name(op + "_" + out);
  for (const auto& i : in) n->add_input(i);
  n->add_output(out);
  return n;
}

void SetInt(onnx::NodeProto* n, const std::string& name, int64_t v) {
  auto* a = n->add_attribute();
  a->set_name(name);
  a->set_type(onnx::AttributeProto_AttributeType_INT);
  a->set_i(v);
}

void Save(onnx::ModelProto& m, const std::string& path, int64_t opset) {
  m.set_ir_version(8);
  m.set_producer_name("closedloop-tests");
  auto* op = m.add_opset_import();
  op->set_domain("");
  op->set_version(opset);
  std::ofstream out(path, std::ios::binary);
  if (!m.SerializeToOstream(&out)) throw std::runtime_error("cannot write " + path);
}

}  // namespace

Mlp WriteMlpModel(const std::string& path) {
  Mlp m{Values(32, 0.1f), Values(8, 1.3f), Values(24, 2.7f), Values(3, 4.1f)};
  onnx::ModelProto model;
  onnx::GraphProto* g = model.mutable_graph();
  g->set_name("mlp");
  AddInit(g, "W1", {8, 4}, m.w1);
  AddInit(g, "B1", {8}, m.b1);
  AddInit(g, "W2", {3, 8}, m.w2);
  AddInit(g, "B2", {3}, m.b2);
  SetInt(AddNode(g, "Gemm", {"X", "W1", "B1"}, "H"), "transB", 1);
  AddNode(g, "Relu", {"H"}, "R");
  SetInt(AddNode(g, "Gemm", {"R", "W2", "B2"}, "L"), "transB", 1);
  SetInt(AddNode(g, "Softmax", {"L"}, "Y"), "axis", 1);
  AddValue(g->mutable_input(), "X", {-1, 4});
  AddValue(g->mutable_output(), "Y", {-1, 3});
  Save(model, path, 13);
  return m;
}

std::vector<float> MlpReference(const Mlp& m, const std::vector<float>& x, int rows) {
  std::vector<float> y;
  for (int r = 0; r < rows; ++r) {
    float h[8], l[3];
    for (int j = 0; j < 8; ++j) {
      h[j] = m.b1[j];
      for (int k = 0; k < 4; ++k) h[j] += x[r * 4 + k] * m.w1[j * 4 + k];
      h[j] = std::max(0.f, h[j]);
    }
    for (int j = 0; j < 3; ++j) {
      l[j] = m.b2[j];
      for (int k = 0; k < 8; ++k) l[j] += h[k] * m.w2[j * 8 + k];
    }
    float mx = *std::max_element(l, l + 3), sum = 0;
    for (float& v : l) sum += (v = std::exp(v - mx));
    for (float v : l) y.push_back(v / sum);
  }
  return y;
}

ConvNet WriteConvModel(const std::string& path) {
  ConvNet c{Values(18, 0.5f), Values(2, 3.3f)};
  onnx::ModelProto model;
  onnx::GraphProto* g = model.mutable_graph();
  g->set_name("conv");
  AddInit(g, "W", {2, 1, 3, 3}, c.w);
  AddInit(g, "B", {2}, c.b);
  onnx::NodeProto* conv = AddNode(g, "Conv", {"X", "W", "B"}, "C");
  auto* ks = conv->add_attribute();  // exporters (PyTorch) always write it; OpenCV needs it
  ks->set_name("kernel_shape");
  ks->set_type(onnx::AttributeProto_AttributeType_INTS);
  ks->add_ints(3);
  ks->add_ints(3);
  AddNode(g, "Relu", {"C"}, "Y");
  AddValue(g->mutable_input(), "X", {1, 1, 5, 5});
  AddValue(g->mutable_output(), "Y", {1, 2, 3, 3});
  Save(model, path, 13);
  return c;
}

std::vector<float> ConvReference(const ConvNet& c, const std::vector<float>& x) {
  std::vector<float> y;
  for (int oc = 0; oc < 2; ++oc) {
    for (int i = 0; i < 3; ++i) {
      for (int j = 0; j < 3; ++j) {
        float s = c.b[oc];
        for (int ki = 0; ki < 3; ++ki) {
          for (int kj = 0; kj < 3; ++kj)
            s += x[(i + ki) * 5 + (j + kj)] * c.w[oc * 9 + ki * 3 + kj];
        }
        y.push_back(std::max(0.f, s));
      }
    }
  }
  return y;
}

void WriteLayerNormModel(const std::string& path) {
  onnx::ModelProto model;
  onnx::GraphProto* g = model.mutable_graph();
  g->set_name("layernorm");
  AddInit(g, "S", {4}, {1, 1, 1, 1});
  AddInit(g, "Bi", {4}, {0, 0, 0, 0});
  AddNode(g, "LayerNormalization", {"X", "S", "Bi"}, "Y");
  AddValue(g->mutable_input(), "X", {1, 4});
  AddValue(g->mutable_output(), "Y", {1, 4});
  Save(model, path, 17);
}

void WriteAddModel(const std::string& path) {
  onnx::ModelProto model;
  onnx::GraphProto* g = model.mutable_graph();
  g->set_name("add");
  AddNode(g, "Add", {"A", "B"}, "Y");
  AddValue(g->mutable_input(), "A", {-1, 3});
  AddValue(g->mutable_input(), "B", {-1, 3});
  AddValue(g->mutable_output(), "Y", {-1, 3});
  Save(model, path, 13);
}

}  // namespace closedloop::testing
