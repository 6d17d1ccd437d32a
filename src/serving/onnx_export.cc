#include "serving/onnx_export.h"

#include <onnx/onnx_pb.h>

#include <filesystem>
#include <fstream>

namespace closedloop {

namespace {

namespace fs = std::filesystem;

// Builds one graph node by node; names are unique per call site.
class GraphBuilder {
 public:
  explicit GraphBuilder(onnx::GraphProto* g) : g_(g) {}

  template <typename T>
  void Initializer(const std::string& name, int data_type, std::vector<int64_t> dims,
                   const std::vector<T>& values) {
    onnx::TensorProto* t = g_->add_initializer();
    t->set_name(name);
    t->set_data_type(data_type);
    for (int64_t d : dims) t->add_dims(d);
    t->set_raw_data(std::string(reinterpret_cast<const char*>(values.data()),
                                values.size() * sizeof(T)));  // little-endian, as ONNX wants
  }
  void Floats(const std::string& name, std::vector<int64_t> dims, const std::vector<float>& v) {
    Initializer(name, onnx::TensorProto_DataType_FLOAT, std::move(dims), v);
  }

  onnx::NodeProto* Node(const std::string& op, std::vector<std::string> inputs,
                        const std::string& output) {
    onnx::NodeProto* n = g_->add_node();
    n->set_op_type(op);
    n->set_name(op + "_" + std::to_string(g_->node_size()));
    for (auto& in : inputs) n->add_input(in);
    n->add_output(output);
    return n;
  }
  static void IntAttr(onnx::NodeProto* n, const std::string& name, int64_t v) {
    auto* a = n->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto_AttributeType_INT);
    a->set_i(v);
  }

  void Io(bool input, const std::string& name, int64_t width) {
    auto* v = input ? g_->add_input() : g_->add_output();
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto_DataType_FLOAT);
    tt->mutable_shape()->add_dim()->set_dim_param("N");
    tt->mutable_shape()->add_dim()->set_dim_value(width);
  }

  // A [N, dims...] input with a symbolic batch dimension.
  void Input(const std::string& name, const std::vector<int64_t>& dims) {
    auto* v = g_->add_input();
    v->set_name(name);
    auto* tt = v->mutable_type()->mutable_tensor_type();
    tt->set_elem_type(onnx::TensorProto_DataType_FLOAT);
    tt->mutable_shape()->add_dim()->set_dim_param("N");
    for (int64_t d : dims) tt->mutable_shape()->add_dim()->set_dim_value(d);
  }

  // softmax over the last axis of a [N, K] tensor
  void Softmax(const std::string& in, const std::string& out) {
    IntAttr(Node("Softmax", {in}, out), "axis", 1);
  }

 private:
  onnx::GraphProto* g_;
};

onnx::ModelProto NewModel(const std::string& graph_name) {
  onnx::ModelProto m;
  m.set_ir_version(8);
  m.set_producer_name("closedloop");
  m.add_opset_import()->set_version(13);
  m.mutable_graph()->set_name(graph_name);
  return m;
}

// rows x cols row-major -> cols x rows
template <typename T>
std::vector<T> Transposed(const std::vector<T>& m, int64_t rows, int64_t cols) {
  std::vector<T> t(m.size());
  for (int64_t r = 0; r < rows; ++r) {
    for (int64_t c = 0; c < cols; ++c) t[c * rows + r] = m[r * cols + c];
  }
  return t;
}

// probabilities = Softmax(Log(p) / T), or p itself when T == 1.
void Calibrate(GraphBuilder& b, const std::string& p, double temperature) {
  if (temperature == 1.0) {
    b.Node("Identity", {p}, "probabilities");
    return;
  }
  b.Node("Log", {p}, "log_p");
  b.Floats("inv_temperature", {1}, {static_cast<float>(1.0 / temperature)});
  b.Node("Mul", {"log_p", "inv_temperature"}, "scaled_log_p");
  b.Softmax("scaled_log_p", "probabilities");
}

StatusOr<OnnxExportInfo> WriteModel(const onnx::ModelProto& m, const std::string& path,
                                    OnnxExportInfo info) {
  if (m.ByteSizeLong() > (size_t{1} << 31) - 1) {
    return InvalidArgument("the model is over ONNX's 2 GiB protobuf limit");
  }
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out || !m.SerializeToOstream(&out)) {
      std::error_code ec;
      fs::remove(tmp, ec);
      return Internal("cannot write '" + tmp + "'");
    }
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return Internal("cannot rename '" + tmp + "' to '" + path + "': " + ec.message());
  info.bytes = static_cast<int64_t>(fs::file_size(path, ec));
  return info;
}

}  // namespace

StatusOr<OnnxExportInfo> ExportMlpToOnnx(const MlpModel& model, double temperature,
                                         const std::string& path) {
  if (!(temperature > 0)) return InvalidArgument("temperature must be greater than 0");
  if (model.members().empty()) return InvalidArgument("the MLP has no members");
  onnx::ModelProto m = NewModel("closedloop_mlp");
  GraphBuilder b(m.mutable_graph());
  const int64_t d = static_cast<int64_t>(model.featurizer().dimension());
  const int64_t h = model.hidden(), k = model.labels();
  OnnxExportInfo info{"features", d, static_cast<int>(k), 0, false};
  b.Io(true, "features", d);
  std::vector<std::string> member_probs;
  for (size_t i = 0; i < model.members().size(); ++i) {
    const MlpMember& mem = model.members()[i];
    const std::string s = std::to_string(i);
    std::string w1 = "W1_" + s;
    // OpenCV's Gemm takes B as [out, in] with transB = 1: W1 is written transposed.
    // An INT8 W1 is cast to float (folded at load) and its row scales are applied to
    // the input instead: sum_j (x_j * s_j) q_jk = sum_j x_j w_jk, since OpenCV 4.6
    // cannot multiply two constants of different shapes.
    std::string x = "features";
    if (mem.quantized()) {
      info.int8 = true;
      b.Initializer("W1q_" + s, onnx::TensorProto_DataType_INT8, {h, d},
                    Transposed(mem.w1_q, d, h));
      b.Floats("W1scale_" + s, {d}, mem.w1_scale);
      GraphBuilder::IntAttr(b.Node("Cast", {"W1q_" + s}, w1), "to",
                            onnx::TensorProto_DataType_FLOAT);
      x = "scaled_features_" + s;
      b.Node("Mul", {"features", "W1scale_" + s}, x);
    } else {
      b.Floats(w1, {h, d}, Transposed(mem.w1, d, h));
    }
    b.Floats("B1_" + s, {h}, mem.b1);
    b.Floats("W2_" + s, {k, h}, mem.w2);
    b.Floats("B2_" + s, {k}, mem.b2);
    GraphBuilder::IntAttr(b.Node("Gemm", {x, w1, "B1_" + s}, "pre_" + s), "transB", 1);
    b.Node("Relu", {"pre_" + s}, "hidden_" + s);
    GraphBuilder::IntAttr(b.Node("Gemm", {"hidden_" + s, "W2_" + s, "B2_" + s}, "logits_" + s),
                          "transB", 1);
    b.Softmax("logits_" + s, "p_" + s);
    member_probs.push_back("p_" + s);
  }
  std::string mean = member_probs.front();
  if (member_probs.size() > 1) {
    b.Node("Sum", member_probs, "sum_p");
    b.Floats("inv_members", {1}, {1.0f / static_cast<float>(member_probs.size())});
    b.Node("Mul", {"sum_p", "inv_members"}, "mean_p");
    mean = "mean_p";
  }
  Calibrate(b, mean, temperature);
  b.Io(false, "probabilities", k);
  return WriteModel(m, path, info);
}

StatusOr<OnnxExportInfo> ExportImageMlpToOnnx(const ImageMlpHead& head, const std::string& path) {
  const int64_t d = static_cast<int64_t>(head.channels) * head.height * head.width;
  const int64_t h = head.hidden, k = head.labels;
  if (d <= 0 || h <= 0 || k <= 0 || head.w1.size() != static_cast<size_t>(h * d) ||
      head.b1.size() != static_cast<size_t>(h) || head.w2.size() != static_cast<size_t>(k * h) ||
      head.b2.size() != static_cast<size_t>(k)) {
    return InvalidArgument("the image MLP's weights do not match its sizes");
  }
  onnx::ModelProto m = NewModel("closedloop_image_mlp");
  GraphBuilder b(m.mutable_graph());
  OnnxExportInfo info{"image", d, static_cast<int>(k), 0, false};
  b.Input("image", {head.channels, head.height, head.width});
  GraphBuilder::IntAttr(b.Node("Flatten", {"image"}, "flat"), "axis", 1);
  b.Floats("W1", {h, d}, head.w1);
  b.Floats("B1", {h}, head.b1);
  b.Floats("W2", {k, h}, head.w2);
  b.Floats("B2", {k}, head.b2);
  GraphBuilder::IntAttr(b.Node("Gemm", {"flat", "W1", "B1"}, "pre"), "transB", 1);
  b.Node("Relu", {"pre"}, "embedding");
  GraphBuilder::IntAttr(b.Node("Gemm", {"embedding", "W2", "B2"}, "logits"), "transB", 1);
  b.Softmax("logits", "probabilities");
  b.Io(false, "probabilities", k);
  b.Io(false, "embedding", h);
  return WriteModel(m, path, info);
}

StatusOr<OnnxExportInfo> ExportLinearToOnnx(const LinearHead& head, double temperature,
                                            const std::string& path) {
  if (!(temperature > 0)) return InvalidArgument("temperature must be greater than 0");
  if (head.labels <= 0 || head.dimension <= 0 ||
      head.weights.size() != static_cast<size_t>(head.labels) * head.dimension) {
    return InvalidArgument("the linear head's weights do not match labels x dimension");
  }
  onnx::ModelProto m = NewModel("closedloop_linear");
  GraphBuilder b(m.mutable_graph());
  const int64_t d = head.dimension, k = head.labels;
  std::vector<float> w = head.weights;
  for (float& v : w) v = static_cast<float>(v / temperature);  // softmax(Wx / T)
  b.Io(true, "sentence_vector", d);
  b.Floats("W", {k, d}, w);
  b.Floats("B", {k}, std::vector<float>(static_cast<size_t>(k), 0.0f));
  GraphBuilder::IntAttr(b.Node("Gemm", {"sentence_vector", "W", "B"}, "logits"), "transB", 1);
  b.Softmax("logits", "probabilities");
  b.Io(false, "probabilities", k);
  return WriteModel(m, path, {"sentence_vector", d, static_cast<int>(k), 0, false});
}

}  // namespace closedloop
