#include "learn/mlp_trainer.h"

#include <algorithm>
#include <atomic>
#include <cmath>
#include <numeric>
#include <random>
#include <thread>

#include <Eigen/Dense>

namespace closedloop {

namespace {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

struct Adam {
  float lr, wd, b1 = 0.9f, b2 = 0.999f, eps = 1e-8f;
  // One step of AdamW on `n` parameters at `p` with moments `m`, `v`; `t` >= 1.
  void Step(float* p, float* m, float* v, const float* g, size_t n, int64_t t) const {
    const float c1 = 1.0f - std::pow(b1, static_cast<float>(t));
    const float c2 = 1.0f - std::pow(b2, static_cast<float>(t));
    const float step = lr * std::sqrt(c2) / c1;
    for (size_t i = 0; i < n; ++i) {
      m[i] = b1 * m[i] + (1 - b1) * g[i];
      v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
      p[i] -= step * m[i] / (std::sqrt(v[i]) + eps) + lr * wd * p[i];
    }
  }
};

// Mean log-loss and accuracy of `m` on a split.
std::pair<double, double> Score(const MlpModel& view, const MlpMember& m,
                                const std::vector<SparseVector>& x, const std::vector<int>& y) {
  std::vector<float> h, z;
  double loss = 0;
  size_t right = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    view.Hidden(m, x[i], h);
    view.Logits(m, h, z);
    SoftmaxInPlace(z);
    const auto best = std::max_element(z.begin(), z.end()) - z.begin();
    right += best == y[i];
    loss -= std::log(std::max(z[static_cast<size_t>(y[i])], 1e-15f));
  }
  return {loss / static_cast<double>(x.size()), static_cast<double>(right) / x.size()};
}

// g += lambda * F * (p - anchor) over n parameters.
void AddEwc(float* g, const float* p, const float* anchor, const float* f, size_t n, float lambda) {
  for (size_t i = 0; i < n; ++i) g[i] += lambda * f[i] * (p[i] - anchor[i]);
}

// `init`/`fisher` (both optional, shapes of the member trained): warm start and EWC.
MlpMember TrainOne(const TextFeaturizer& featurizer, const std::vector<SparseVector>& x,
                   const std::vector<int>& y, const std::vector<float>* weights,
                   const std::vector<size_t>& rows, const std::vector<SparseVector>& vx,
                   const std::vector<int>& vy, size_t features, int labels,
                   const MlpTrainOptions& o, uint32_t seed, std::vector<MlpEpoch>& history,
                   int& best_epoch, const MlpMember* init, const MlpMember* fisher,
                   float ewc_lambda) {
  const size_t H = static_cast<size_t>(o.hidden), C = static_cast<size_t>(labels);
  std::mt19937 rng(seed);
  MlpMember m;
  m.hidden = o.hidden;
  m.labels = labels;
  m.w1.resize(features * H);
  m.b1.assign(H, 0.0f);
  m.w2.resize(C * H);
  m.b2.assign(C, 0.0f);
  {
    // Inputs have unit norm, so W1 entries drawn with standard deviation
    // 1/sqrt(H) give pre-activations of that size; W2 is Glorot-uniform.
    std::normal_distribution<float> n1(0.0f, 1.0f / std::sqrt(static_cast<float>(H)));
    for (float& w : m.w1) w = n1(rng);
    const float a = std::sqrt(6.0f / static_cast<float>(H + C));
    std::uniform_real_distribution<float> u2(-a, a);
    for (float& w : m.w2) w = u2(rng);
  }
  if (init != nullptr) m = *init;
  std::vector<float> m1(m.w1.size(), 0), v1(m.w1.size(), 0), mb1(H, 0), vb1(H, 0),
      m2(m.w2.size(), 0), v2(m.w2.size(), 0), mb2(C, 0), vb2(C, 0);
  std::vector<int64_t> row_step(features, 0);  // lazy Adam: each row's own step count
  const Adam adam{o.learning_rate, o.weight_decay};
  const MlpModel view(featurizer, {});  // for Hidden/Logits on a member being trained

  // Per-batch accumulators; W1 gradients only for the rows the batch touches.
  RowMatrix gw2(C, H);
  Eigen::VectorXf gb1(H), gb2(C);
  std::vector<float> g1;  // touched rows x H
  std::vector<int32_t> touched;
  std::vector<int32_t> slot(features, -1);
  std::vector<size_t> order = rows;
  std::vector<float> h, z, dh(H);
  int64_t t = 0;
  double best_acc = -1, best_loss = 0;
  int since_best = 0;
  MlpMember best = m;
  best_epoch = 0;
  std::bernoulli_distribution keep(1.0 - o.dropout);
  const float keep_scale = 1.0f / (1.0f - o.dropout);
  std::vector<uint8_t> mask(H);
  for (int epoch = 1; epoch <= o.max_epochs; ++epoch) {
    std::shuffle(order.begin(), order.end(), rng);
    double train_loss = 0;
    for (size_t start = 0; start < order.size(); start += static_cast<size_t>(o.batch_size)) {
      const size_t end = std::min(order.size(), start + static_cast<size_t>(o.batch_size));
      const float inv_b = 1.0f / static_cast<float>(end - start);
      gw2.setZero();
      gb1.setZero();
      gb2.setZero();
      touched.clear();
      for (size_t b = start; b < end; ++b) {
        const size_t r = order[b];
        const SparseVector& xi = x[r];
        view.Hidden(m, xi, h);
        for (size_t j = 0; j < H; ++j) {
          mask[j] = o.dropout > 0 ? keep(rng) : 1;
          h[j] = mask[j] ? h[j] * (o.dropout > 0 ? keep_scale : 1.0f) : 0.0f;
        }
        view.Logits(m, h, z);
        SoftmaxInPlace(z);
        const float w = (weights ? (*weights)[r] : 1.0f) * inv_b;
        train_loss -= std::log(std::max(z[static_cast<size_t>(y[r])], 1e-15f));
        z[static_cast<size_t>(y[r])] -= 1.0f;  // dLoss/dlogits
        Eigen::Map<Eigen::VectorXf> g(z.data(), static_cast<Eigen::Index>(C));
        g *= w;
        Eigen::Map<const Eigen::VectorXf> hv(h.data(), static_cast<Eigen::Index>(H));
        gw2.noalias() += g * hv.transpose();
        gb2 += g;
        Eigen::Map<const RowMatrix> w2(m.w2.data(), static_cast<Eigen::Index>(C),
                                       static_cast<Eigen::Index>(H));
        Eigen::Map<Eigen::VectorXf> dhv(dh.data(), static_cast<Eigen::Index>(H));
        dhv.noalias() = w2.transpose() * g;
        for (size_t j = 0; j < H; ++j) {
          if (h[j] <= 0.0f)
            dh[j] = 0.0f;  // relu (and dropped units: h is 0)
          else if (o.dropout > 0)
            dh[j] *= keep_scale;
        }
        gb1 += dhv;
        for (size_t k = 0; k < xi.index.size(); ++k) {
          const int32_t c = xi.index[k];
          if (slot[static_cast<size_t>(c)] < 0) {
            slot[static_cast<size_t>(c)] = static_cast<int32_t>(touched.size());
            touched.push_back(c);
            g1.resize(touched.size() * H);
            std::fill(g1.end() - static_cast<std::ptrdiff_t>(H), g1.end(), 0.0f);
          }
          Eigen::Map<Eigen::VectorXf>(
              g1.data() + static_cast<size_t>(slot[static_cast<size_t>(c)]) * H,
              static_cast<Eigen::Index>(H)) += xi.value[k] * dhv;
        }
      }
      ++t;
      if (fisher != nullptr && ewc_lambda > 0) {
        for (size_t s = 0; s < touched.size(); ++s) {
          const size_t off = static_cast<size_t>(touched[s]) * H;
          AddEwc(g1.data() + s * H, m.w1.data() + off, init->w1.data() + off,
                 fisher->w1.data() + off, H, ewc_lambda);
        }
        AddEwc(gb1.data(), m.b1.data(), init->b1.data(), fisher->b1.data(), H, ewc_lambda);
        AddEwc(gw2.data(), m.w2.data(), init->w2.data(), fisher->w2.data(), C * H, ewc_lambda);
        AddEwc(gb2.data(), m.b2.data(), init->b2.data(), fisher->b2.data(), C, ewc_lambda);
      }
      for (size_t s = 0; s < touched.size(); ++s) {
        const size_t c = static_cast<size_t>(touched[s]);
        const size_t off = c * H;
        adam.Step(m.w1.data() + off, m1.data() + off, v1.data() + off, g1.data() + s * H, H,
                  ++row_step[c]);
        slot[c] = -1;
      }
      adam.Step(m.b1.data(), mb1.data(), vb1.data(), gb1.data(), H, t);
      adam.Step(m.w2.data(), m2.data(), v2.data(), gw2.data(), C * H, t);
      adam.Step(m.b2.data(), mb2.data(), vb2.data(), gb2.data(), C, t);
    }
    const auto [vloss, vacc] = Score(view, m, vx, vy);
    history.push_back({epoch, train_loss / static_cast<double>(order.size()), vloss, vacc});
    if (vacc > best_acc || (vacc == best_acc && vloss < best_loss)) {
      best_acc = vacc;
      best_loss = vloss;
      best = m;
      best_epoch = epoch;
      since_best = 0;
    } else if (++since_best >= o.patience) {
      break;
    }
  }
  return best;
}

}  // namespace

StatusOr<std::vector<MlpMember>> TrainMlpMembers(
    const TextFeaturizer& featurizer, const std::vector<SparseVector>& x, const std::vector<int>& y,
    const std::vector<float>* weights, const std::vector<SparseVector>& validation_x,
    const std::vector<int>& validation_y, int labels, const MlpTrainOptions& o,
    MlpTrainReport* report, const MlpWarmStart* warm) {
  if (x.empty() || x.size() != y.size()) return InvalidArgument("no training rows");
  if (weights && weights->size() != x.size()) return InvalidArgument("one weight per row needed");
  if (validation_x.empty()) return InvalidArgument("no validation rows");
  if (o.hidden < 1 || o.ensemble < 1 || o.batch_size < 1 || o.max_epochs < 1 || o.patience < 1 ||
      !(o.dropout >= 0 && o.dropout < 1) || !(o.learning_rate > 0)) {
    return InvalidArgument("MLP options out of range");
  }
  const size_t features = featurizer.dimension();
  size_t n = static_cast<size_t>(o.ensemble);
  std::vector<MlpMember> init, fisher;
  if (warm != nullptr) {
    n = warm->init.size();
    if (n == 0) return InvalidArgument("the warm start has no members");
    if (!warm->fisher.empty() && warm->fisher.size() != n) {
      return InvalidArgument("one Fisher member per warm-start member needed");
    }
    for (size_t i = 0; i < n; ++i) {
      const MlpMember& m = warm->init[i];
      if (m.quantized() || m.w1.size() != features * static_cast<size_t>(m.hidden) ||
          m.labels > labels) {
        return InvalidArgument("a warm-start member does not fit the features and labels");
      }
      init.push_back(WidenedMember(m, labels));
      if (!warm->fisher.empty()) fisher.push_back(WidenedMember(warm->fisher[i], labels));
    }
  }
  MlpTrainOptions member_options = o;
  if (warm != nullptr) member_options.hidden = init.front().hidden;
  std::vector<MlpMember> members(n);
  std::vector<std::vector<MlpEpoch>> histories(n);
  std::vector<int> best(n, 0);
  auto train = [&](size_t i) {
    const uint32_t seed = o.seed + static_cast<uint32_t>(i) * 7919u;
    std::vector<size_t> rows(x.size());
    if (o.bagging && n > 1) {
      std::mt19937 pick(seed ^ 0x9e3779b9u);
      std::uniform_int_distribution<size_t> any(0, x.size() - 1);
      for (size_t& r : rows) r = any(pick);
    } else {
      std::iota(rows.begin(), rows.end(), size_t{0});
    }
    members[i] =
        TrainOne(featurizer, x, y, weights, rows, validation_x, validation_y, features, labels,
                 member_options, seed, histories[i], best[i], init.empty() ? nullptr : &init[i],
                 fisher.empty() ? nullptr : &fisher[i], warm ? warm->ewc_lambda : 0.0f);
  };
  const size_t threads = std::max<size_t>(
      1, std::min(n, o.threads > 0 ? static_cast<size_t>(o.threads)
                                   : std::max(1u, std::thread::hardware_concurrency())));
  std::vector<std::thread> pool;
  std::atomic<size_t> next{0};
  for (size_t w = 0; w < threads; ++w) {
    pool.emplace_back([&] {
      for (size_t i; (i = next++) < n;) train(i);
    });
  }
  for (auto& th : pool) th.join();
  if (report) {
    report->members = std::move(histories);
    report->best_epoch = std::move(best);
  }
  return members;
}

MlpMember WidenedMember(MlpMember m, int labels) {
  if (m.labels >= labels) return m;
  m.w2.resize(static_cast<size_t>(labels) * static_cast<size_t>(m.hidden), 0.0f);
  m.b2.resize(static_cast<size_t>(labels), 0.0f);
  m.labels = labels;
  return m;
}

}  // namespace closedloop
