#include "learn/oos_evaluation.h"

#include <algorithm>
#include <filesystem>

#include "core/json_writer.h"
#include "serving/model_repository.h"
#include "serving/oos_score.h"

namespace closedloop {

namespace {

struct Row {
  double top = 0;  // top probability among the model's labels
  bool right = false;
  bool oos = false;
};

OosPoint At(const std::vector<Row>& rows, double t) {
  size_t in = 0, in_right = 0, in_kept = 0, oos = 0, oos_rejected = 0, rejected = 0;
  for (const Row& r : rows) {
    const bool reject = r.top < t;
    rejected += reject;
    if (r.oos) {
      ++oos;
      oos_rejected += reject;
    } else {
      ++in;
      in_kept += !reject;
      in_right += !reject && r.right;
    }
  }
  OosPoint p;
  p.threshold = t;
  p.in_scope_accuracy = in ? double(in_right) / in : 0;
  p.in_scope_coverage = in ? double(in_kept) / in : 0;
  p.oos_recall = oos ? double(oos_rejected) / oos : 0;
  p.oos_precision = rejected ? double(oos_rejected) / rejected : 0;
  return p;
}

void WritePoint(JsonWriter& w, const OosPoint& p) {
  w.Key("threshold").Double(p.threshold).Key("in_scope_accuracy").Double(p.in_scope_accuracy);
  w.Key("in_scope_coverage").Double(p.in_scope_coverage).Key("oos_recall").Double(p.oos_recall);
  w.Key("oos_precision").Double(p.oos_precision);
}

}  // namespace

StatusOr<OosReport> EvaluateOutOfScope(const ScoredTable& s, size_t model_labels,
                                       const std::set<std::string>& oos_labels, double threshold,
                                       const std::vector<double>* scores,
                                       const std::string& score_name) {
  if (scores != nullptr && scores->size() != s.probs.size()) {
    return InvalidArgument("one score per scored row needed");
  }
  std::vector<Row> rows;
  rows.reserve(s.probs.size());
  OosReport report;
  for (size_t i = 0; i < s.probs.size(); ++i) {
    const size_t truth = static_cast<size_t>(s.truth[i]);
    Row r;
    r.oos = truth >= model_labels || oos_labels.count(s.labels[truth]) > 0;
    size_t best = 0;
    for (size_t c = 0; c < model_labels && c < s.probs[i].size(); ++c) {
      if (oos_labels.count(s.labels[c])) continue;  // an "oos" class is not an answer
      if (s.probs[i][c] > s.probs[i][best] || oos_labels.count(s.labels[best])) best = c;
    }
    r.top = scores != nullptr ? (*scores)[i] : s.probs[i][best];
    r.right = !r.oos && best == truth;
    (r.oos ? report.oos_rows : report.in_scope_rows)++;
    rows.push_back(r);
  }
  if (report.oos_rows == 0) {
    return InvalidArgument(
        "no out-of-scope rows: no label is unknown to the model or named by "
        "--oos-label");
  }
  if (report.in_scope_rows == 0) return InvalidArgument("no in-scope rows");
  report.score = score_name;
  report.at_threshold = At(rows, threshold);
  std::vector<double> in_scores;
  for (const Row& r : rows) {
    if (!r.oos) in_scores.push_back(r.top);
  }
  std::sort(in_scores.begin(), in_scores.end());
  for (int k = 1; k <= 19; ++k) {
    const size_t q = std::min(in_scores.size() - 1, in_scores.size() * static_cast<size_t>(k) / 20);
    report.curve.push_back(At(rows, scores == nullptr ? k * 0.05 : in_scores[q]));
  }
  // AUROC by ranks: the chance an out-of-scope row has a lower top probability.
  std::vector<const Row*> sorted;
  for (const Row& r : rows) sorted.push_back(&r);
  std::sort(sorted.begin(), sorted.end(),
            [](const Row* a, const Row* b) { return a->top < b->top; });
  double rank_sum = 0;
  for (size_t i = 0; i < sorted.size();) {
    size_t j = i;
    while (j < sorted.size() && sorted[j]->top == sorted[i]->top) ++j;
    const double mid = (static_cast<double>(i + j + 1)) / 2.0;  // 1-based average rank
    for (size_t k = i; k < j; ++k) {
      if (!sorted[k]->oos) rank_sum += mid;
    }
    i = j;
  }
  const double n_in = static_cast<double>(report.in_scope_rows),
               n_oos = static_cast<double>(report.oos_rows);
  report.auroc = (rank_sum - n_in * (n_in + 1) / 2) / (n_in * n_oos);
  return report;
}

StatusOr<std::vector<double>> InScopeScoresOnFile(const std::string& model_dir,
                                                  const std::string& data_file, TableFormat format,
                                                  const std::string& text_col,
                                                  const std::string& label_col,
                                                  const std::string& score_name) {
  namespace fs = std::filesystem;
  ASSIGN_OR_RETURN(OosScoreKind kind, ParseOosScore(score_name));
  std::error_code ec;
  std::string dir =
      fs::is_directory(model_dir, ec) ? model_dir : fs::path(model_dir).parent_path().string();
  ASSIGN_OR_RETURN(auto version, LoadModelVersion(dir, fs::path(dir).filename().string(), 0));
  ASSIGN_OR_RETURN(CsvTable table, ReadTable(data_file, format));
  ASSIGN_OR_RETURN(size_t tc, table.Column(text_col));
  ASSIGN_OR_RETURN(size_t lc, table.Column(label_col));
  std::vector<double> out;
  for (const auto& row : table.rows) {
    if (row[lc].empty() || row[tc].empty()) continue;  // as ScoreTable skips them
    ASSIGN_OR_RETURN(double v,
                     InScopeScore(*version->backend, row[tc], kind, version->config.temperature));
    out.push_back(v);
  }
  return out;
}

std::string RenderOosJson(const OosReport& r) {
  JsonWriter w;
  w.BeginObject().Key("in_scope_rows").Int(static_cast<int64_t>(r.in_scope_rows));
  w.Key("oos_rows").Int(static_cast<int64_t>(r.oos_rows));
  w.Key("score").String(r.score);
  WritePoint(w, r.at_threshold);
  if (r.auroc) w.Key("auroc").Double(*r.auroc);
  w.Key("curve").BeginArray();
  for (const OosPoint& p : r.curve) {
    w.BeginObject();
    WritePoint(w, p);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return std::move(w).Take();
}

}  // namespace closedloop
