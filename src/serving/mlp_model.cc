#include "serving/mlp_model.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include <Eigen/Dense>

#include "serving/binary_io.h"

namespace closedloop {

using binary_io::Get;
using binary_io::GetVec;
using binary_io::Put;
using binary_io::PutVec;

namespace {

constexpr char kMagic[8] = {'C', 'L', 'M', 'L', 'P', '0', '0', '1'};

bool AllFinite(const std::vector<float>& v) {
  return std::all_of(v.begin(), v.end(), [](float x) { return std::isfinite(x); });
}

}  // namespace

void SoftmaxInPlace(std::vector<float>& z, double temperature) {
  if (z.empty()) return;
  const float inv_t = static_cast<float>(1.0 / temperature);
  const float top = *std::max_element(z.begin(), z.end());
  double sum = 0;
  for (float& v : z) {
    v = std::exp((v - top) * inv_t);
    sum += v;
  }
  for (float& v : z) v = static_cast<float>(v / sum);
}

MlpModel::MlpModel(TextFeaturizer featurizer, std::vector<MlpMember> members, float dropout)
    : featurizer_(std::move(featurizer)), members_(std::move(members)), dropout_(dropout) {}

void MlpModel::Hidden(const MlpMember& m, const SparseVector& x, std::vector<float>& h,
                      float dropout, std::mt19937* rng) const {
  const Eigen::Index H = m.hidden;
  h.assign(m.b1.begin(), m.b1.end());
  Eigen::Map<Eigen::VectorXf> hv(h.data(), H);
  for (size_t k = 0; k < x.index.size(); ++k) {
    const size_t row = static_cast<size_t>(x.index[k]) * static_cast<size_t>(H);
    if (m.quantized()) {
      const float s = x.value[k] * m.w1_scale[static_cast<size_t>(x.index[k])];
      hv += s * Eigen::Map<const Eigen::Matrix<int8_t, Eigen::Dynamic, 1>>(m.w1_q.data() + row, H)
                    .cast<float>();
    } else {
      hv += x.value[k] * Eigen::Map<const Eigen::VectorXf>(m.w1.data() + row, H);
    }
  }
  hv = hv.cwiseMax(0.0f);
  if (dropout > 0 && rng != nullptr) {
    std::bernoulli_distribution keep(1.0 - dropout);
    const float scale = 1.0f / (1.0f - dropout);
    for (float& v : h) v = keep(*rng) ? v * scale : 0.0f;
  }
}

void MlpModel::Logits(const MlpMember& m, const std::vector<float>& h,
                      std::vector<float>& logits) const {
  logits.assign(m.b2.begin(), m.b2.end());
  Eigen::Map<Eigen::VectorXf> out(logits.data(), m.labels);
  Eigen::Map<const Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>> w2(
      m.w2.data(), m.labels, m.hidden);
  out.noalias() += w2 * Eigen::Map<const Eigen::VectorXf>(h.data(), m.hidden);
}

std::vector<std::vector<float>> MlpModel::MemberProbabilities(const SparseVector& x,
                                                              double temperature) const {
  std::vector<std::vector<float>> out(members_.size());
  std::vector<float> h;
  for (size_t i = 0; i < members_.size(); ++i) {
    Hidden(members_[i], x, h);
    Logits(members_[i], h, out[i]);
    SoftmaxInPlace(out[i], temperature);
  }
  return out;
}

std::unique_ptr<MlpModel> MlpModel::Quantized() const {
  std::vector<MlpMember> q = members_;
  for (MlpMember& m : q) {
    if (m.quantized()) continue;
    const size_t H = static_cast<size_t>(m.hidden);
    const size_t rows = m.w1.size() / H;
    m.w1_q.resize(m.w1.size());
    m.w1_scale.resize(rows);
    for (size_t r = 0; r < rows; ++r) {
      const float* w = m.w1.data() + r * H;
      float top = 0;
      for (size_t j = 0; j < H; ++j) top = std::max(top, std::fabs(w[j]));
      const float scale = top > 0 ? top / 127.0f : 1.0f;
      m.w1_scale[r] = scale;
      for (size_t j = 0; j < H; ++j) {
        m.w1_q[r * H + j] = static_cast<int8_t>(std::clamp(std::lround(w[j] / scale), -127L, 127L));
      }
    }
    m.w1.clear();
    m.w1.shrink_to_fit();
  }
  return std::make_unique<MlpModel>(featurizer_, std::move(q), dropout_);
}

Status MlpModel::Save(const std::string& path) const {
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return Internal("cannot write '" + tmp + "'");
    out.write(kMagic, sizeof kMagic);
    Put<int32_t>(out, static_cast<int32_t>(members_.size()));
    Put<int32_t>(out, hidden());
    Put<int32_t>(out, labels());
    Put<uint8_t>(out, members_.front().quantized() ? 1 : 0);
    Put<float>(out, dropout_);
    featurizer_.Write(out);
    for (const MlpMember& m : members_) {
      if (m.quantized()) {
        PutVec(out, m.w1_scale);
        PutVec(out, m.w1_q);
      } else {
        PutVec(out, m.w1);
      }
      PutVec(out, m.b1);
      PutVec(out, m.w2);
      PutVec(out, m.b2);
    }
    out.flush();
    if (!out) return Internal("failed writing '" + tmp + "'");
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Internal("cannot rename '" + tmp + "': " + ec.message());
  return OkStatus();
}

StatusOr<std::unique_ptr<MlpModel>> MlpModel::Load(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot open MLP model '" + path + "'");
  char magic[sizeof kMagic];
  if (!in.read(magic, sizeof magic) || !std::equal(magic, magic + sizeof magic, kMagic)) {
    return InvalidArgument("'" + path + "' is not a closedloop MLP model");
  }
  int32_t count = 0, hidden = 0, labels = 0;
  uint8_t quantized = 0;
  float dropout = 0;
  if (!Get(in, count) || !Get(in, hidden) || !Get(in, labels) || !Get(in, quantized) ||
      !Get(in, dropout)) {
    return InvalidArgument("'" + path + "': header is truncated");
  }
  if (count < 1 || count > 64 || hidden < 1 || hidden > 65536 || labels < 2 || labels > 100000 ||
      quantized > 1 || !(dropout >= 0 && dropout < 1)) {
    return InvalidArgument("'" + path + "': header is corrupt");
  }
  auto featurizer = TextFeaturizer::Read(in);
  if (!featurizer.ok()) return featurizer.status().WithContext("'" + path + "'");
  const size_t F = featurizer->dimension(), H = static_cast<size_t>(hidden),
               C = static_cast<size_t>(labels);
  std::vector<MlpMember> members(static_cast<size_t>(count));
  for (MlpMember& m : members) {
    m.hidden = hidden;
    m.labels = labels;
    bool ok = quantized ? GetVec(in, m.w1_scale, F) && GetVec(in, m.w1_q, F * H)
                        : GetVec(in, m.w1, F * H);
    ok = ok && GetVec(in, m.b1, H) && GetVec(in, m.w2, C * H) && GetVec(in, m.b2, C);
    if (!ok) return InvalidArgument("'" + path + "': weights are truncated");
    if (!AllFinite(m.w1) || !AllFinite(m.w1_scale) || !AllFinite(m.b1) || !AllFinite(m.w2) ||
        !AllFinite(m.b2)) {
      return InvalidArgument("'" + path + "': weights are not finite");
    }
  }
  if (in.peek() != std::char_traits<char>::eof()) {
    return InvalidArgument("'" + path + "': trailing bytes after the weights");
  }
  return std::make_unique<MlpModel>(std::move(*featurizer), std::move(members), dropout);
}

}  // namespace closedloop
