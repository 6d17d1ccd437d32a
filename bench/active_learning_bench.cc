// Active learning and label aggregation, simulated on Banking77 (make bench).
//
// 1. Active learning: train.csv is the "unlabelled traffic"; its true labels answer
//    the queries. Start from 10 labelled rows per intent, then each round label
//    --step more rows chosen by a strategy (learn/batch_selection.h, the code the
//    server's selector runs) and retrain the mlp head (hidden 256, fixed epochs) —
//    up to --max-share of the pool. The peer is random selection, and the
//    reference the model trained on every row. Accuracy on test.csv. QBC's
//    committee is a 3-member ensemble (members differ by seed; or bagged), which is
//    also the model it evaluates.
// 2. Noisy annotators: every test.csv row answered by three simulated annotators
//    of accuracy 0.9 / 0.8 / 0.6 (a wrong answer uniform over the other intents,
//    answers in random order); labels recovered by majority vote (ties: the first
//    answer, i.e. at random) vs Dawid–Skene.
// Usage: active_learning_bench DATA_DIR [--seeds N] [--step N] [--max-share F] [--epochs N]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <numeric>
#include <random>
#include <string>
#include <vector>

#include "learn/batch_selection.h"
#include "learn/csv_reader.h"
#include "learn/label_aggregation.h"
#include "learn/mlp_trainer.h"
#include "learn/uncertainty_sampling.h"
#include "serving/mlp_model.h"
#include "serving/text_features.h"

namespace cl = closedloop;

namespace {

struct Data {
  std::vector<std::string> texts;
  std::vector<int> y;
};

Data Load(const std::string& path, std::map<std::string, int>& labels) {
  auto t = cl::ReadCsvFile(path);
  if (!t.ok()) {
    std::fprintf(stderr, "%s\n", t.status().message().c_str());
    std::exit(2);
  }
  size_t tc = *t->Column("text"), lc = *t->Column("category");
  Data d;
  for (const auto& row : t->rows) {
    if (row[tc].empty()) continue;
    auto [it, added] = labels.emplace(row[lc], static_cast<int>(labels.size()));
    d.texts.push_back(row[tc]);
    d.y.push_back(it->second);
  }
  return d;
}

std::unique_ptr<cl::MlpModel> Train(const cl::TextFeaturizer& f,
                                    const std::vector<cl::SparseVector>& x,
                                    const std::vector<int>& y, const std::vector<size_t>& rows,
                                    int labels, int epochs, int ensemble, bool bagging,
                                    uint32_t seed) {
  std::vector<cl::SparseVector> tx;
  std::vector<int> ty;
  for (size_t r : rows) {
    tx.push_back(x[r]);
    ty.push_back(y[r]);
  }
  cl::MlpTrainOptions o;
  o.max_epochs = epochs;
  o.patience = epochs;  // fixed epochs: the labelled rows are all there is
  o.ensemble = ensemble;
  o.bagging = bagging;
  o.seed = seed;
  auto members = cl::TrainMlpMembers(f, tx, ty, nullptr, tx, ty, labels, o, nullptr);
  if (!members.ok()) {
    std::fprintf(stderr, "training: %s\n", members.status().message().c_str());
    std::exit(1);
  }
  return std::make_unique<cl::MlpModel>(f, std::move(members).value(), o.dropout);
}

std::vector<float> Mean(const std::vector<std::vector<float>>& m) {
  std::vector<float> p(m.front().size(), 0);
  for (const auto& v : m) {
    for (size_t i = 0; i < p.size(); ++i) p[i] += v[i] / static_cast<float>(m.size());
  }
  return p;
}

double Accuracy(const cl::MlpModel& m, const std::vector<cl::SparseVector>& x,
                const std::vector<int>& y) {
  size_t right = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    auto p = Mean(m.MemberProbabilities(x[i], 1.0));
    right += static_cast<int>(std::max_element(p.begin(), p.end()) - p.begin()) == y[i];
  }
  return static_cast<double>(right) / static_cast<double>(x.size());
}

struct Strategy {
  std::string name;
  cl::SelectionStrategy s;
  bool diversity;
  double random_share;
  int ensemble;
  bool bagging = false;
};

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr,
                 "usage: active_learning_bench DATA_DIR [--seeds N] [--step N] "
                 "[--max-share F] [--epochs N]\n");
    return 2;
  }
  std::setvbuf(stdout, nullptr, _IOLBF, 0);  // progress as it comes
  const std::string dir = argv[1];
  int seeds = 2, step = 385, epochs = 10;
  double max_share = 0.3;
  for (int i = 2; i + 1 < argc; i += 2) {
    if (!std::strcmp(argv[i], "--seeds")) seeds = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--step")) step = std::atoi(argv[i + 1]);
    if (!std::strcmp(argv[i], "--max-share")) max_share = std::atof(argv[i + 1]);
    if (!std::strcmp(argv[i], "--epochs")) epochs = std::atoi(argv[i + 1]);
  }
  std::map<std::string, int> label_ids;
  Data train = Load(dir + "/train.csv", label_ids);
  Data test = Load(dir + "/test.csv", label_ids);
  const int L = static_cast<int>(label_ids.size());
  std::vector<std::string_view> views(train.texts.begin(), train.texts.end());
  auto featurizer = cl::TextFeaturizer::Fit(views, cl::FeaturizerOptions{});
  if (!featurizer.ok()) return 1;
  std::vector<cl::SparseVector> x, tx;
  for (const auto& t : train.texts) x.push_back(featurizer->Featurize(t));
  for (const auto& t : test.texts) tx.push_back(featurizer->Featurize(t));
  const size_t N = x.size();
  std::printf(
      "active learning on Banking77: pool %zu rows, %d intents, test %zu rows, %d epochs, "
      "%d seed(s)\n",
      N, L, tx.size(), epochs, seeds);

  auto t0 = std::chrono::steady_clock::now();
  std::vector<size_t> all(N);
  std::iota(all.begin(), all.end(), 0);
  double full = 0;
  for (int s = 0; s < seeds; ++s) {
    full +=
        Accuracy(*Train(*featurizer, x, train.y, all, L, epochs, 1, false, 100 + s), tx, test.y) /
        seeds;
  }
  std::printf("full data (%zu labels): accuracy %.4f\n", N, full);

  const std::vector<Strategy> strategies = {
      {"random", cl::SelectionStrategy::kRandom, false, 1, 1},
      {"least_confidence", cl::SelectionStrategy::kLeastConfidence, false, 0, 1},
      {"margin", cl::SelectionStrategy::kMargin, false, 0, 1},
      {"entropy", cl::SelectionStrategy::kEntropy, false, 0, 1},
      {"qbc (3 members)", cl::SelectionStrategy::kQbc, false, 0, 3},
      {"qbc (3 bagged members)", cl::SelectionStrategy::kQbc, false, 0, 3, true},
      {"margin+diversity+10% random", cl::SelectionStrategy::kMargin, true, 0.1, 1},
  };
  const size_t budget = static_cast<size_t>(max_share * static_cast<double>(N));
  // accuracy[strategy][round]
  std::vector<std::vector<double>> acc(strategies.size());
  std::vector<size_t> sizes;
  for (int s = 0; s < seeds; ++s) {
    std::mt19937_64 rng(1000 + static_cast<uint64_t>(s));
    // The seed set: 10 rows per intent, the same for every strategy.
    std::vector<size_t> order(all);
    std::shuffle(order.begin(), order.end(), rng);
    std::vector<int> per(static_cast<size_t>(L), 0);
    std::vector<size_t> seed_rows;
    for (size_t r : order) {
      if (per[static_cast<size_t>(train.y[r])]++ < 10) seed_rows.push_back(r);
    }
    for (size_t k = 0; k < strategies.size(); ++k) {
      const Strategy& st = strategies[k];
      std::vector<size_t> labelled = seed_rows;
      std::vector<bool> used(N, false);
      for (size_t r : labelled) used[r] = true;
      std::mt19937_64 pick_rng(77 + static_cast<uint64_t>(s));
      for (size_t round = 0;; ++round) {
        auto model = Train(*featurizer, x, train.y, labelled, L, epochs, st.ensemble, st.bagging,
                           static_cast<uint32_t>(200 + s));
        double a = Accuracy(*model, tx, test.y);
        if (acc[k].size() <= round) acc[k].resize(round + 1, 0);
        acc[k][round] += a / seeds;
        if (k == 0 && s == 0) sizes.push_back(labelled.size());
        if (labelled.size() >= budget) break;
        std::vector<size_t> rows;
        std::vector<cl::SelectionCandidate> pool;
        for (size_t r = 0; r < N; ++r) {
          if (used[r]) continue;
          rows.push_back(r);
          cl::SelectionCandidate c;
          if (st.s != cl::SelectionStrategy::kRandom) {
            auto members = model->MemberProbabilities(x[r], 1.0);
            auto p = Mean(members);
            c.score = *cl::InformativenessScore(st.s, p, members);
            if (st.diversity) model->Hidden(model->members().front(), x[r], c.embedding);
          }
          pool.push_back(std::move(c));
        }
        cl::SelectionOptions o;
        o.strategy = st.s;
        o.batch = std::min(static_cast<size_t>(step), budget - labelled.size());
        o.random_share = st.random_share;
        o.diversity = st.diversity;
        for (const auto& item : cl::SelectBatch(pool, o, pick_rng)) {
          labelled.push_back(rows[item.index]);
          used[rows[item.index]] = true;
        }
      }
    }
  }
  std::printf("\naccuracy on test.csv by labels used (mean of %d seed(s)); ratio = / full data\n",
              seeds);
  std::printf("%-30s", "labels");
  for (size_t n : sizes) std::printf(" %7zu", n);
  std::printf("\n");
  for (size_t k = 0; k < strategies.size(); ++k) {
    std::printf("%-30s", strategies[k].name.c_str());
    for (double a : acc[k]) std::printf(" %7.4f", a);
    std::printf("   ratio at %zu: %.3f\n", sizes.back(), acc[k].back() / full);
  }
  std::printf("share of labels at the last point: %.3f\n",
              static_cast<double>(sizes.back()) / static_cast<double>(N));
  for (size_t k = 1; k < strategies.size(); ++k) {
    int above = 0;
    for (size_t r = 1; r < acc[k].size(); ++r) above += acc[k][r] > acc[0][r];
    std::printf("%-30s above random at %d of %zu points after the seed set\n",
                strategies[k].name.c_str(), above, acc[k].size() - 1);
  }
  std::printf("active learning time: %.1f s\n",
              std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());

  // Noisy annotators.
  const double accuracy[3] = {0.9, 0.8, 0.6};
  double majority_total = 0, ds_total = 0;
  const int ds_seeds = 5;
  for (int s = 0; s < ds_seeds; ++s) {
    std::mt19937_64 rng(5000 + static_cast<uint64_t>(s));
    cl::AnswerSet set{test.y.size(), 3, static_cast<size_t>(L), {}};
    for (size_t i = 0; i < test.y.size(); ++i) {
      for (size_t a = 0; a < 3; ++a) {
        int label = test.y[i];
        if (std::uniform_real_distribution<double>(0, 1)(rng) >= accuracy[a]) {
          label = static_cast<int>((label + 1 + static_cast<int>(rng() % (L - 1))) % L);
        }
        set.answers.push_back({i, a, label});
      }
    }
    std::shuffle(set.answers.begin(), set.answers.end(), rng);
    auto count = [&](const std::vector<cl::AggregatedLabel>& got) {
      size_t n = 0;
      for (size_t i = 0; i < test.y.size(); ++i) n += got[i].label == test.y[i];
      return static_cast<double>(n) / static_cast<double>(test.y.size());
    };
    majority_total += count(cl::MajorityVote(set)) / ds_seeds;
    ds_total += count(cl::DawidSkene(set).labels) / ds_seeds;
  }
  std::printf(
      "\nnoisy annotators (0.9 / 0.8 / 0.6) on %zu items, %d seeds: correct labels "
      "majority %.4f, dawid-skene %.4f (ratio %.3f)\n",
      test.y.size(), ds_seeds, majority_total, ds_total, ds_total / majority_total);
  return 0;
}
