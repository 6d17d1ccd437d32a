// Trains the MLP head (serving/mlp_model.h) on sparse TF-IDF vectors: mini-batch
// Adam with decoupled weight decay (AdamW), dropout on the hidden layer, early
// stopping on the validation split (the weights of the best validation epoch are
// kept). Rows of W1 are updated lazily: only the rows of the n-grams in a batch
// move, so an epoch costs what the texts contain, not the vocabulary size.
// Ensembles train their members on separate threads, each from its own seed and,
// with bagging, its own bootstrap sample of the training rows.
//
// Pure computation: no files; thread-safe to call concurrently on distinct data.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

#include "serving/mlp_model.h"

namespace closedloop {

struct MlpTrainOptions {
  int hidden = 256;
  float dropout = 0.5f;
  float learning_rate = 0.002f;
  float weight_decay = 1e-4f;  // decoupled, per step times the learning rate
  int batch_size = 32;
  int max_epochs = 20;
  int patience = 3;  // epochs without a better validation accuracy before stopping
  int ensemble = 1;
  bool bagging = false;  // members see bootstrap samples (else only their seed differs)
  int threads = 0;       // members trained at once; 0: number of cores
  uint32_t seed = 42;
};

struct MlpEpoch {
  int epoch = 0;
  double train_loss = 0;
  double validation_loss = 0;
  double validation_accuracy = 0;
};

struct MlpTrainReport {
  std::vector<std::vector<MlpEpoch>> members;  // per member, per epoch trained
  std::vector<int> best_epoch;                 // per member
};

// Continual learning: every member starts from a previous model's member instead
// of random weights, and with `fisher` the loss gains the EWC penalty
//   (ewc_lambda / 2) * sum_i F_i (theta_i - theta*_i)^2
// that holds the parameters the old data relied on near their old values theta*
// (the initial weights). `init` members must have float W1 and may have fewer
// labels than the training: the new outputs start at zero (and have F = 0). The
// penalty on a W1 row is applied when a batch touches the row, as the row's
// gradient is (rows no batch touches do not move).
struct MlpWarmStart {
  std::vector<MlpMember> init;    // one per ensemble member; sets the ensemble size
  std::vector<MlpMember> fisher;  // diagonal Fisher of each member (learn/ewc.h); empty: none
  float ewc_lambda = 0;
};

// `y` indexes the label set of size `labels`; `weights` (optional, one per row)
// scale each row's loss. Validation must not be empty.
// Features are `featurizer`'s columns.
StatusOr<std::vector<MlpMember>> TrainMlpMembers(
    const TextFeaturizer& featurizer, const std::vector<SparseVector>& x, const std::vector<int>& y,
    const std::vector<float>* weights, const std::vector<SparseVector>& validation_x,
    const std::vector<int>& validation_y, int labels, const MlpTrainOptions& options,
    MlpTrainReport* report, const MlpWarmStart* warm = nullptr);

// `m` with outputs for `labels` labels: added rows of W2 and b2 are zero.
MlpMember WidenedMember(MlpMember m, int labels);

}  // namespace closedloop
