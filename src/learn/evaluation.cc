#include "learn/evaluation.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

#include "core/json_writer.h"
#include "serving/model_repository.h"

namespace closedloop {

namespace {

// Area under the ROC curve of `scores` for the rows where `positive` is true:
// the Mann-Whitney statistic with ties counted half. nullopt without both classes.
std::optional<double> BinaryAuc(const std::vector<double>& scores,
                                const std::vector<bool>& positive) {
  std::vector<size_t> order(scores.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return scores[a] < scores[b]; });
  double pos = 0, rank_sum = 0;
  for (size_t i = 0; i < order.size();) {
    size_t j = i;
    while (j < order.size() && scores[order[j]] == scores[order[i]]) ++j;
    double avg_rank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;  // 1-based
    for (size_t k = i; k < j; ++k) {
      if (positive[order[k]]) {
        rank_sum += avg_rank;
        pos += 1;
      }
    }
    i = j;
  }
  double neg = static_cast<double>(scores.size()) - pos;
  if (pos == 0 || neg == 0) return std::nullopt;
  return (rank_sum - pos * (pos + 1) / 2) / (pos * neg);
}

}  // namespace

StatusOr<EvaluationReport> Evaluate(const std::vector<std::string>& labels,
                                    const std::vector<std::vector<float>>& probs,
                                    const std::vector<int>& truth, int bins) {
  if (probs.empty()) return InvalidArgument("no labelled rows to evaluate");
  if (probs.size() != truth.size()) return InvalidArgument("probabilities and labels differ");
  const size_t k = labels.size();
  EvaluationReport r;
  r.rows = probs.size();
  r.labels = labels;
  r.confusion.assign(k, std::vector<size_t>(k, 0));
  std::vector<double> bin_conf(bins, 0), bin_correct(bins, 0);
  std::vector<size_t> bin_count(bins, 0);
  size_t correct = 0;
  double nll = 0;
  for (size_t i = 0; i < probs.size(); ++i) {
    if (probs[i].size() != k || truth[i] < 0 || static_cast<size_t>(truth[i]) >= k) {
      return InvalidArgument("row " + std::to_string(i) + " does not match the label set");
    }
    auto best =
        static_cast<size_t>(std::max_element(probs[i].begin(), probs[i].end()) - probs[i].begin());
    auto t = static_cast<size_t>(truth[i]);
    r.confusion[t][best]++;
    bool right = best == t;
    correct += right;
    nll -= std::log(std::max<double>(probs[i][t], 1e-15));
    double conf = probs[i][best];
    int b = std::clamp(static_cast<int>(conf * bins), 0, bins - 1);
    bin_conf[b] += conf;
    bin_correct[b] += right;
    bin_count[b]++;
  }
  const auto n = static_cast<double>(r.rows);
  r.accuracy = static_cast<double>(correct) / n;
  r.log_loss = nll / n;
  for (int b = 0; b < bins; ++b) {
    ReliabilityBin bin;
    bin.lower = static_cast<double>(b) / bins;
    bin.upper = static_cast<double>(b + 1) / bins;
    bin.count = bin_count[b];
    if (bin.count > 0) {
      auto c = static_cast<double>(bin.count);
      bin.mean_confidence = bin_conf[b] / c;
      bin.accuracy = bin_correct[b] / c;
      r.ece += c / n * std::fabs(bin.accuracy - bin.mean_confidence);
    }
    r.reliability.push_back(bin);
  }
  double f1_sum = 0, weighted = 0;
  size_t present = 0;
  for (size_t c = 0; c < k; ++c) {
    ClassMetrics m;
    m.label = labels[c];
    size_t predicted = 0;
    for (size_t t = 0; t < k; ++t) predicted += r.confusion[t][c];
    for (size_t p = 0; p < k; ++p) m.support += r.confusion[c][p];
    size_t tp = r.confusion[c][c];
    if (predicted > 0) m.precision = static_cast<double>(tp) / static_cast<double>(predicted);
    if (m.support > 0) m.recall = static_cast<double>(tp) / static_cast<double>(m.support);
    if (m.precision + m.recall > 0) m.f1 = 2 * m.precision * m.recall / (m.precision + m.recall);
    // Macro averages over the classes present in the data or the predictions.
    if (m.support > 0 || predicted > 0) {
      f1_sum += m.f1;
      ++present;
    }
    weighted += m.f1 * static_cast<double>(m.support) / n;
    r.per_class.push_back(m);
  }
  r.macro_f1 = present > 0 ? f1_sum / static_cast<double>(present) : 0;
  r.weighted_f1 = weighted;
  std::vector<double> scores(r.rows);
  std::vector<bool> positive(r.rows);
  if (k == 2) {
    for (size_t i = 0; i < r.rows; ++i) scores[i] = probs[i][1], positive[i] = truth[i] == 1;
    r.roc_auc = BinaryAuc(scores, positive);
  } else if (k > 2) {
    double sum = 0;
    int counted = 0;
    for (size_t c = 0; c < k; ++c) {
      for (size_t i = 0; i < r.rows; ++i) {
        scores[i] = probs[i][c], positive[i] = static_cast<size_t>(truth[i]) == c;
      }
      if (auto auc = BinaryAuc(scores, positive)) sum += *auc, ++counted;
    }
    if (counted > 0) r.roc_auc = sum / counted;
  }
  return r;
}

StatusOr<ScoredTable> ScoreTable(const Backend& model, const CsvTable& table,
                                 const std::string& text_col, const std::string& label_col,
                                 const std::vector<size_t>* rows, const CategoryMap* categories) {
  ASSIGN_OR_RETURN(size_t lc, table.Column(label_col));
  ScoredTable out;
  out.labels = model.labels();
  std::map<std::string, int, std::less<>> index;
  for (size_t i = 0; i < out.labels.size(); ++i) index[out.labels[i]] = static_cast<int>(i);
  const bool tabular = !model.feature_names().empty();
  size_t tc = 0;
  std::vector<size_t> feature_cols;
  std::vector<const std::vector<std::string>*> feature_cats;
  if (tabular) {
    for (const auto& f : model.feature_names()) {
      ASSIGN_OR_RETURN(size_t c, table.Column(f));
      feature_cols.push_back(c);
      auto it = categories != nullptr ? categories->find(f) : CategoryMap::const_iterator();
      feature_cats.push_back(categories != nullptr && it != categories->end() ? &it->second
                                                                              : nullptr);
    }
  } else {
    ASSIGN_OR_RETURN(tc, table.Column(text_col));
  }
  const size_t n = rows != nullptr ? rows->size() : table.rows.size();
  std::vector<float> features(feature_cols.size());
  for (size_t j = 0; j < n; ++j) {
    const size_t r = rows != nullptr ? (*rows)[j] : j;
    const auto& row = table.rows[r];
    if (row[lc].empty() || (!tabular && row[tc].empty())) {
      ++out.skipped_rows;
      continue;
    }
    LabelScores scores;
    if (tabular) {
      for (size_t f = 0; f < feature_cols.size(); ++f) {
        const std::string& cell = row[feature_cols[f]];
        if (cell.empty()) {
          features[f] = std::nanf("");
          continue;
        }
        if (feature_cats[f] != nullptr) {
          features[f] = CategoryCode(*feature_cats[f], cell);
          continue;
        }
        auto [ptr, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), features[f]);
        if (ec != std::errc() || ptr != cell.data() + cell.size()) {
          return InvalidArgument("row " + std::to_string(r + 1) + ", column '" +
                                 model.feature_names()[f] + "': '" + cell + "' is not a number");
        }
      }
      ASSIGN_OR_RETURN(TabularPrediction p, model.PredictRow(features, false));
      scores = std::move(p.scores);
    } else {
      ASSIGN_OR_RETURN(scores, model.PredictText(row[tc], 0));
    }
    auto it = index.find(row[lc]);
    if (it == index.end()) {
      it = index.emplace(row[lc], static_cast<int>(out.labels.size())).first;
      out.labels.push_back(row[lc]);
      for (auto& p : out.probs) p.push_back(0.f);
    }
    std::vector<float> p(out.labels.size(), 0.f);
    for (const auto& s : scores) p[static_cast<size_t>(s.index)] = s.p;
    out.probs.push_back(std::move(p));
    out.truth.push_back(it->second);
  }
  return out;
}

StatusOr<ScoredModelFile> ScoreModelOnFile(const std::string& model_dir,
                                           const std::string& data_file, TableFormat format,
                                           const std::string& text_col,
                                           const std::string& label_col) {
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::exists(model_dir, ec)) return NotFound("model '" + model_dir + "' does not exist");
  std::string dir =
      fs::is_directory(model_dir, ec) ? model_dir : fs::path(model_dir).parent_path().string();
  if (dir.empty()) dir = ".";
  ASSIGN_OR_RETURN(auto version, LoadModelVersion(dir, fs::path(dir).filename().string(), 0));
  ASSIGN_OR_RETURN(CsvTable table, ReadTable(data_file, format));
  ASSIGN_OR_RETURN(ScoredTable scored, ScoreTable(*version->backend, table, text_col, label_col,
                                                  nullptr, &version->config.categories));
  return ScoredModelFile{std::move(scored), version->backend->labels().size()};
}

StatusOr<EvaluationReport> EvaluateModelOnFile(const std::string& model_dir,
                                               const std::string& data_file, TableFormat format,
                                               const std::string& text_col,
                                               const std::string& label_col) {
  ASSIGN_OR_RETURN(ScoredModelFile s,
                   ScoreModelOnFile(model_dir, data_file, format, text_col, label_col));
  return Evaluate(s.scored.labels, s.scored.probs, s.scored.truth);
}

Status WriteVersionFiles(const std::string& dir, const ModelConfig& config,
                         const EvaluationReport& validation,
                         const std::optional<EvaluationReport>& test) {
  std::ofstream cfg(dir + "/config.toml", std::ios::trunc);
  cfg << RenderModelConfig(config);
  std::ofstream metrics(dir + "/metrics.json", std::ios::trunc);
  metrics << "{\"validation\":" << RenderEvaluationJson(validation);
  if (test) metrics << ",\"test\":" << RenderEvaluationJson(*test);
  metrics << "}\n";
  if (!cfg || !metrics) return Internal("cannot write the model's config and metrics in " + dir);
  return OkStatus();
}

std::string RenderEvaluationJson(const EvaluationReport& r) {
  JsonWriter w;
  w.BeginObject();
  w.Key("rows").Uint(r.rows);
  w.Key("accuracy").Double(r.accuracy);
  w.Key("macro_f1").Double(r.macro_f1);
  w.Key("weighted_f1").Double(r.weighted_f1);
  w.Key("log_loss").Double(r.log_loss);
  w.Key("roc_auc");
  if (r.roc_auc) {
    w.Double(*r.roc_auc);
  } else {
    w.Null();
  }
  w.Key("ece").Double(r.ece);
  w.Key("labels").BeginArray();
  for (const auto& l : r.labels) w.String(l);
  w.EndArray();
  w.Key("per_class").BeginArray();
  for (const auto& m : r.per_class) {
    w.BeginObject().Key("label").String(m.label).Key("precision").Double(m.precision);
    w.Key("recall").Double(m.recall).Key("f1").Double(m.f1).Key("support").Uint(m.support);
    w.EndObject();
  }
  w.EndArray();
  w.Key("confusion_matrix").BeginArray();
  for (const auto& row : r.confusion) {
    w.BeginArray();
    for (size_t c : row) w.Uint(c);
    w.EndArray();
  }
  w.EndArray();
  w.Key("reliability").BeginArray();
  for (const auto& b : r.reliability) {
    w.BeginObject().Key("lower").Double(b.lower).Key("upper").Double(b.upper);
    w.Key("count").Uint(b.count).Key("mean_confidence").Double(b.mean_confidence);
    w.Key("accuracy").Double(b.accuracy).EndObject();
  }
  w.EndArray();
  w.EndObject();
  return std::move(w).Take();
}

}  // namespace closedloop
