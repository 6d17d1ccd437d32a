#include "learn/labeling_report.h"

#include <cmath>
#include <cstdio>
#include <sstream>

#include "core/json_writer.h"
#include "learn/aggregated_labels.h"
#include "learn/annotator_agreement.h"
#include "learn/label_aggregation.h"
#include "store/annotation_store.h"

namespace closedloop {

StatusOr<LabelingReport> BuildLabelingReport(SqliteDb& db, const std::string& model,
                                             const LabelingConfig& config, int64_t now_ms) {
  LabelingReport r;
  r.model = model;
  r.aggregation = config.aggregation;
  r.budget_per_hour = config.budget_per_hour;
  r.budget_per_day = config.budget_per_day;
  {
    ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT status, strategy, hard, gold_label IS NOT NULL, "
                                        "COUNT(*) FROM labeling_tasks WHERE model = ? GROUP BY "
                                        "1, 2, 3, 4"));
    q.BindText(1, model);
    for (;;) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      const int64_t n = q.ColumnInt(4);
      if (q.ColumnInt(3)) {
        r.gold += n;
        continue;
      }
      (q.ColumnText(0) == "open" ? r.open : r.done) += n;
      if (q.ColumnText(0) == "open" && q.ColumnInt(2)) r.hard_open += n;
      r.by_strategy[q.ColumnText(1)] += n;
    }
  }
  ASSIGN_OR_RETURN(r.selected_last_hour, CountSelectedSince(db, model, now_ms - 3600 * 1000));
  ASSIGN_OR_RETURN(r.selected_last_day, CountSelectedSince(db, model, now_ms - 24 * 3600 * 1000));

  ASSIGN_OR_RETURN(ModelAnswers answers, LoadModelAnswers(db, model));
  ASSIGN_OR_RETURN(auto gold, GoldScores(db, model));
  DawidSkeneResult ds = DawidSkene(answers.set);
  std::vector<AggregatedLabel> majority = MajorityVote(answers.set);
  for (size_t i = 0; i < answers.set.items; ++i) {
    if (majority[i].label != ds.labels[i].label) ++r.majority_vs_ds_disagreements;
  }
  const std::vector<AggregatedLabel>& settled =
      config.aggregation == "majority" ? majority : ds.labels;
  // Per annotator: answers, agreement with the settled label, κ with the others.
  const size_t A = answers.set.annotators;
  std::vector<int64_t> count(A, 0), agree(A, 0);
  for (const ItemAnswer& x : answers.set.answers) {
    ++count[x.annotator];
    if (settled[x.item].label == x.label) ++agree[x.annotator];
  }
  std::vector<double> kappa_sum(A, 0), kappa_items(A, 0);
  for (size_t a = 0; a < A; ++a) {
    for (size_t b = a + 1; b < A; ++b) {
      PairKappa k = CohenKappa(answers.set, a, b);
      if (k.items == 0 || std::isnan(k.kappa)) continue;
      r.pairs.push_back(
          {answers.annotators[a], answers.annotators[b], static_cast<int64_t>(k.items), k.kappa});
      for (size_t who : {a, b}) {
        kappa_sum[who] += k.kappa * static_cast<double>(k.items);
        kappa_items[who] += static_cast<double>(k.items);
      }
    }
  }
  std::map<std::string, int64_t> skips;
  {
    ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT a.annotator, COUNT(*) FROM annotations a JOIN "
                                        "labeling_tasks t ON t.task_id = a.task_id WHERE t.model "
                                        "= ? AND a.answer = 'skip' GROUP BY 1"));
    q.BindText(1, model);
    for (;;) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      skips[q.ColumnText(0)] = q.ColumnInt(1);
    }
  }
  for (size_t a = 0; a < A; ++a) {
    AnnotatorReport ar;
    ar.annotator = answers.annotators[a];
    ar.answers = count[a];
    ar.skips = skips.count(ar.annotator) ? skips[ar.annotator] : 0;
    skips.erase(ar.annotator);
    if (auto g = gold.find(ar.annotator); g != gold.end() && g->second.answered > 0) {
      ar.gold_answered = g->second.answered;
      ar.gold_accuracy = g->second.accuracy();
    }
    ar.ds_accuracy = ds.annotator_accuracy[a];
    if (kappa_items[a] > 0) ar.mean_kappa = kappa_sum[a] / kappa_items[a];
    if (count[a] > 0) ar.agreement = static_cast<double>(agree[a]) / static_cast<double>(count[a]);
    r.annotators.push_back(std::move(ar));
  }
  for (const auto& [who, n] : skips) {  // people who only skipped
    AnnotatorReport ar;
    ar.annotator = who;
    ar.skips = n;
    r.annotators.push_back(std::move(ar));
  }
  FleissResult f = FleissKappa(answers.set);
  r.fleiss_items = static_cast<int64_t>(f.items);
  if (!std::isnan(f.kappa)) r.fleiss_kappa = f.kappa;
  for (size_t k = 0; k < f.per_label.size(); ++k) {
    if (!std::isnan(f.per_label[k])) r.fleiss_per_label[answers.answers[k]] = f.per_label[k];
  }

  ASSIGN_OR_RETURN(auto finished, AggregatedLabels(db, model, config.aggregation));
  int64_t with_prediction = 0, model_right = 0;
  double ht_weight = 0, ht_right = 0;
  for (const AggregatedTaskLabel& l : finished) {
    ++r.labels[l.label];
    if (!l.predicted || l.label == "none") continue;
    ++with_prediction;
    const bool right = *l.predicted == l.label;
    model_right += right;
    if (l.strategy == "random" && l.propensity > 0) {
      ++r.random_items;
      ht_weight += 1 / l.propensity;
      ht_right += right ? 1 / l.propensity : 0;
    }
  }
  if (with_prediction > 0) {
    r.model_agreement = static_cast<double>(model_right) / static_cast<double>(with_prediction);
  }
  if (ht_weight > 0) r.model_accuracy_unbiased = ht_right / ht_weight;
  return r;
}

std::string LabelingReportJson(const LabelingReport& r) {
  JsonWriter w(2048);
  auto opt = [&](const std::optional<double>& v) { v ? w.Double(*v) : w.Null(); };
  w.BeginObject().Key("model").String(r.model).Key("aggregation").String(r.aggregation);
  w.Key("queue").BeginObject().Key("open").Int(r.open).Key("done").Int(r.done);
  w.Key("hard_open").Int(r.hard_open).Key("gold_items").Int(r.gold);
  w.Key("by_strategy").BeginObject();
  for (const auto& [s, n] : r.by_strategy) w.Key(s).Int(n);
  w.EndObject();
  w.Key("selected_last_hour").Int(r.selected_last_hour);
  w.Key("selected_last_day").Int(r.selected_last_day);
  w.Key("budget_per_hour").Int(r.budget_per_hour).Key("budget_per_day").Int(r.budget_per_day);
  w.EndObject();
  w.Key("annotators").BeginArray();
  for (const auto& a : r.annotators) {
    w.BeginObject().Key("annotator").String(a.annotator).Key("answers").Int(a.answers);
    w.Key("skips").Int(a.skips).Key("gold_answered").Int(a.gold_answered);
    w.Key("gold_accuracy");
    opt(a.gold_accuracy);
    w.Key("ds_accuracy");
    opt(a.ds_accuracy);
    w.Key("mean_kappa");
    opt(a.mean_kappa);
    w.Key("agreement");
    opt(a.agreement);
    w.EndObject();
  }
  w.EndArray().Key("pairs").BeginArray();
  for (const auto& p : r.pairs) {
    w.BeginObject().Key("a").String(p.a).Key("b").String(p.b).Key("items").Int(p.items);
    w.Key("kappa").Double(p.kappa).EndObject();
  }
  w.EndArray().Key("fleiss").BeginObject().Key("kappa");
  opt(r.fleiss_kappa);
  w.Key("items").Int(r.fleiss_items).Key("per_label").BeginObject();
  for (const auto& [l, k] : r.fleiss_per_label) w.Key(l).Double(k);
  w.EndObject().EndObject();
  w.Key("labels").BeginObject();
  for (const auto& [l, n] : r.labels) w.Key(l).Int(n);
  w.EndObject();
  w.Key("majority_vs_dawid_skene_disagreements").Int(r.majority_vs_ds_disagreements);
  w.Key("model").BeginObject().Key("agreement");
  opt(r.model_agreement);
  w.Key("accuracy_unbiased");
  opt(r.model_accuracy_unbiased);
  w.Key("random_items").Int(r.random_items).EndObject();
  w.EndObject();
  return std::move(w).Take();
}

std::string LabelingReportText(const LabelingReport& r) {
  std::ostringstream out;
  char buf[256];
  auto num = [&](const std::optional<double>& v) {
    if (!v) return std::string("-");
    std::snprintf(buf, sizeof buf, "%.3f", *v);
    return std::string(buf);
  };
  out << "labeling report: " << r.model << " (labels by " << r.aggregation << ")\n";
  out << "queue depth: " << r.open << " open (" << r.hard_open << " hard), " << r.done << " done, "
      << r.gold << " gold items\n";
  out << "selected: " << r.selected_last_hour << " in the last hour (budget " << r.budget_per_hour
      << "), " << r.selected_last_day << " in the last day (budget " << r.budget_per_day << ")\n";
  for (const auto& [s, n] : r.by_strategy) out << "  strategy " << s << ": " << n << "\n";
  out << "annotators:\n";
  std::snprintf(buf, sizeof buf, "  %-20s %7s %5s %5s %9s %8s %7s %9s\n", "annotator", "answers",
                "skips", "gold", "gold_acc", "ds_acc", "kappa", "agreement");
  out << buf;
  for (const auto& a : r.annotators) {
    std::string g = num(a.gold_accuracy), d = num(a.ds_accuracy), k = num(a.mean_kappa),
                ag = num(a.agreement);
    std::snprintf(buf, sizeof buf, "  %-20s %7lld %5lld %5lld %9s %8s %7s %9s\n",
                  a.annotator.c_str(), static_cast<long long>(a.answers),
                  static_cast<long long>(a.skips), static_cast<long long>(a.gold_answered),
                  g.c_str(), d.c_str(), k.c_str(), ag.c_str());
    out << buf;
  }
  for (const auto& p : r.pairs) {
    out << "cohen kappa " << p.a << " / " << p.b << ": " << num(p.kappa) << " on " << p.items
        << " items\n";
  }
  out << "fleiss kappa: " << num(r.fleiss_kappa) << " on " << r.fleiss_items << " items\n";
  for (const auto& [l, k] : r.fleiss_per_label) out << "  " << l << ": " << num(k) << "\n";
  out << "label distribution:\n";
  for (const auto& [l, n] : r.labels) out << "  " << l << ": " << n << "\n";
  out << "majority vs dawid-skene disagreements: " << r.majority_vs_ds_disagreements << "\n";
  out << "model agreement with people: " << num(r.model_agreement)
      << "; unbiased accuracy (random share, " << r.random_items
      << " items): " << num(r.model_accuracy_unbiased) << "\n";
  return out.str();
}

}  // namespace closedloop
