// Writes the benchmark's ONNX MLP with libonnx: X[N,IN] -> Gemm(HIDDEN, transB=1) -> Relu
// -> Gemm(64) -> Relu -> Gemm(10) -> Softmax -> Y[N,10]; fixed pseudo-random weights.
//   make_onnx_mlp OUT.onnx [IN HIDDEN]     (defaults: IN=32, HIDDEN=128)
#include <onnx/onnx_pb.h>

#include <cmath>
#include <fstream>
#include <iostream>
#include <string>

namespace {

void AddGemm(onnx::GraphProto* g, const std::string& in, const std::string& out, int n_in,
             int n_out, int layer) {
  std::string w = "W" + std::to_string(layer), b = "B" + std::to_string(layer);
  for (auto [name, rows, cols] : {std::tuple{w, n_out, n_in}, std::tuple{b, n_out, 0}}) {
    onnx::TensorProto* t = g->add_initializer();
    t->set_name(name);
    t->set_data_type(onnx::TensorProto_DataType_FLOAT);
    t->add_dims(rows);
    if (cols > 0) t->add_dims(cols);
    int n = cols > 0 ? rows * cols : rows;
    for (int i = 0; i < n; ++i) t->add_float_data(std::sin(layer * 7.1f + i * 0.37f) * 0.2f);
  }
  onnx::NodeProto* node = g->add_node();
  node->set_op_type("Gemm");
  node->add_input(in);
  node->add_input(w);
  node->add_input(b);
  node->add_output(out);
  auto* a = node->add_attribute();
  a->set_name("transB");
  a->set_type(onnx::AttributeProto_AttributeType_INT);
  a->set_i(1);
}

void AddUnary(onnx::GraphProto* g, const std::string& op, const std::string& in,
              const std::string& out) {
  onnx::NodeProto* node = g->add_node();
  node->set_op_type(op);
  node->add_input(in);
  node->add_output(out);
  if (op == "Softmax") {
    auto* a = node->add_attribute();
    a->set_name("axis");
    a->set_type(onnx::AttributeProto_AttributeType_INT);
    a->set_i(1);
  }
}

void AddIo(google::protobuf::RepeatedPtrField<onnx::ValueInfoProto>* list, const std::string& name,
           int width) {
  auto* v = list->Add();
  v->set_name(name);
  auto* tt = v->mutable_type()->mutable_tensor_type();
  tt->set_elem_type(onnx::TensorProto_DataType_FLOAT);
  tt->mutable_shape()->add_dim()->set_dim_param("N");
  tt->mutable_shape()->add_dim()->set_dim_value(width);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2 && argc != 4) {
    std::cerr << "usage: make_onnx_mlp OUT.onnx [IN HIDDEN]\n";
    return 2;
  }
  const int in_width = argc == 4 ? std::stoi(argv[2]) : 32;
  const int hidden = argc == 4 ? std::stoi(argv[3]) : 128;
  if (in_width <= 0 || hidden <= 0) {
    std::cerr << "IN and HIDDEN must be positive\n";
    return 2;
  }
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("closedloop-bench");
  m.add_opset_import()->set_version(13);
  onnx::GraphProto* g = m.mutable_graph();
  g->set_name("bench_mlp");
  AddGemm(g, "X", "H1", in_width, hidden, 1);
  AddUnary(g, "Relu", "H1", "R1");
  AddGemm(g, "R1", "H2", hidden, 64, 2);
  AddUnary(g, "Relu", "H2", "R2");
  AddGemm(g, "R2", "L", 64, 10, 3);
  AddUnary(g, "Softmax", "L", "Y");
  AddIo(g->mutable_input(), "X", in_width);
  AddIo(g->mutable_output(), "Y", 10);
  std::ofstream out(argv[1], std::ios::binary);
  return m.SerializeToOstream(&out) ? 0 : 1;
}
