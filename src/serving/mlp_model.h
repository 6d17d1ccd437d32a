// MlpModel: the weights of closedloop's neural text head, one or more ensemble
// members over one TextFeaturizer, and the math that runs them.
//
// A member maps a sparse TF-IDF vector x to logits:
//   h = relu(b1 + sum_j x_j * W1[j]),  logits = W2 * h + b2
// W1 has one row of `hidden` floats per feature column (so a text touches only
// the rows of its n-grams), W2 is labels x hidden. The served distribution is the
// average of the members' softmaxes. W1 may be stored as INT8 with one float
// scale per row (Quantize), which shrinks the file about 4x.
//
// File format (model.mlp, little-endian): magic "CLMLP001", int32 members,
// hidden, labels, uint8 quantized, float dropout, then the featurizer (TextFeaturizer::Write),
// then per member W1 (float rows, or per row a float scale and int8 values), b1,
// W2 (row-major labels x hidden), b2.
//
// Thread safety: immutable after construction; every const method is safe to
// call concurrently. Training (learn/mlp_trainer) builds members and hands them over.
#pragma once

#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "core/status.h"
#include "serving/text_features.h"

namespace closedloop {

struct MlpMember {
  int hidden = 0;
  int labels = 0;
  std::vector<float> w1;        // features x hidden, row-major (empty when quantized)
  std::vector<int8_t> w1_q;     // quantized rows
  std::vector<float> w1_scale;  // per row: w1 = w1_q * scale
  std::vector<float> b1;        // hidden
  std::vector<float> w2;        // labels x hidden, row-major
  std::vector<float> b2;        // labels
  bool quantized() const { return !w1_q.empty(); }
};

class MlpModel {
 public:
  // `dropout`: the rate the members were trained with (MC dropout at serving).
  MlpModel(TextFeaturizer featurizer, std::vector<MlpMember> members, float dropout = 0);

  static StatusOr<std::unique_ptr<MlpModel>> Load(const std::string& path);
  Status Save(const std::string& path) const;  // written whole, then renamed into place

  // Hidden activations of `member` (after relu); with `dropout` > 0 and `rng`, a
  // random share of units is zeroed and the rest scaled by 1 / (1 - dropout).
  void Hidden(const MlpMember& member, const SparseVector& x, std::vector<float>& h,
              float dropout = 0, std::mt19937* rng = nullptr) const;
  // Logits of `member` from its hidden activations.
  void Logits(const MlpMember& member, const std::vector<float>& h,
              std::vector<float>& logits) const;
  // softmax(logits / temperature) of each member (rows) for one text.
  std::vector<std::vector<float>> MemberProbabilities(const SparseVector& x,
                                                      double temperature) const;

  // INT8 rows of W1 (symmetric, scale = max |w| / 127 per row); a copy.
  std::unique_ptr<MlpModel> Quantized() const;

  const TextFeaturizer& featurizer() const { return featurizer_; }
  const std::vector<MlpMember>& members() const { return members_; }
  int hidden() const { return members_.front().hidden; }
  int labels() const { return members_.front().labels; }
  float dropout() const { return dropout_; }

 private:
  TextFeaturizer featurizer_;
  std::vector<MlpMember> members_;
  float dropout_ = 0;
};

// softmax(z / temperature), stable.
void SoftmaxInPlace(std::vector<float>& z, double temperature = 1.0);

}  // namespace closedloop
