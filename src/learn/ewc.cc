#include "learn/ewc.h"

#include <Eigen/Dense>

namespace closedloop {

MlpMember DiagonalFisher(const MlpModel& view, const MlpMember& member,
                         const std::vector<SparseVector>& x, const std::vector<int>& y) {
  using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  const Eigen::Index H = member.hidden, C = member.labels;
  MlpMember f;
  f.hidden = member.hidden;
  f.labels = member.labels;
  f.w1.assign(member.w1.size(), 0.0f);
  f.b1.assign(member.b1.size(), 0.0f);
  f.w2.assign(member.w2.size(), 0.0f);
  f.b2.assign(member.b2.size(), 0.0f);
  if (x.empty()) return f;
  Eigen::Map<const RowMatrix> w2(member.w2.data(), C, H);
  Eigen::Map<RowMatrix> fw2(f.w2.data(), C, H);
  Eigen::Map<Eigen::VectorXf> fb1(f.b1.data(), H), fb2(f.b2.data(), C);
  std::vector<float> h, z;
  Eigen::VectorXf dh(H);
  for (size_t i = 0; i < x.size(); ++i) {
    view.Hidden(member, x[i], h);
    view.Logits(member, h, z);
    SoftmaxInPlace(z);
    z[static_cast<size_t>(y[i])] -= 1.0f;  // d(-log p_y)/dlogits; squared, the sign is moot
    Eigen::Map<const Eigen::VectorXf> g(z.data(), C), hv(h.data(), H);
    fw2.noalias() += (g * hv.transpose()).cwiseAbs2();
    fb2 += g.cwiseAbs2();
    dh.noalias() = w2.transpose() * g;
    for (Eigen::Index j = 0; j < H; ++j) {
      if (hv[j] <= 0.0f) dh[j] = 0.0f;  // relu
    }
    fb1 += dh.cwiseAbs2();
    for (size_t k = 0; k < x[i].index.size(); ++k) {
      Eigen::Map<Eigen::VectorXf> row(f.w1.data() + static_cast<size_t>(x[i].index[k]) * H, H);
      row += (x[i].value[k] * dh).cwiseAbs2();
    }
  }
  const float inv = 1.0f / static_cast<float>(x.size());
  for (auto* v : {&f.w1, &f.b1, &f.w2, &f.b2}) {
    for (float& e : *v) e *= inv;
  }
  return f;
}

MlpMember Dequantized(const MlpMember& m) {
  if (!m.quantized()) return m;
  MlpMember d = m;
  const size_t H = static_cast<size_t>(m.hidden);
  d.w1.resize(m.w1_q.size());
  for (size_t i = 0; i < m.w1_q.size(); ++i) {
    d.w1[i] = static_cast<float>(m.w1_q[i]) * m.w1_scale[i / H];
  }
  d.w1_q.clear();
  d.w1_scale.clear();
  return d;
}

}  // namespace closedloop
