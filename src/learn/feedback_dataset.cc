#include "learn/feedback_dataset.h"

#include <algorithm>
#include <map>

#include "learn/aggregated_labels.h"
#include "serving/traffic_split.h"

namespace closedloop {

StatusOr<FeedbackDataset> BuildFeedbackDataset(SqliteDb& db, const std::string& model,
                                               const RetrainConfig& config) {
  FeedbackDataset out;
  std::map<std::string, FeedbackExample> human;  // by request id: the latest label
  {
    ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT p.request_id, COALESCE(p.input_text, e.text), "
                                        "f.label, f.feedback_id, f.ts_ms FROM feedback f JOIN "
                                        "predictions p ON p.request_id = f.request_id LEFT JOIN "
                                        "escalations e ON e.request_id = p.request_id WHERE "
                                        "p.model = ? AND f.label IS NOT NULL ORDER BY f.ts_ms, "
                                        "f.feedback_id"));
    q.BindText(1, model);
    for (;;) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      auto text = q.ColumnTextOrNull(1);
      if (!text || text->empty()) {
        ++out.without_text;
        continue;
      }
      FeedbackExample e;
      e.request_id = q.ColumnText(0);
      e.text = *text;
      e.label = q.ColumnText(2);
      e.feedback_id = q.ColumnText(3);
      e.ts_ms = q.ColumnInt(4);
      e.source = "human_label";
      e.weight = config.human_label_weight;
      out.newest_label_ms = std::max(out.newest_label_ms, e.ts_ms);
      human[e.request_id] = std::move(e);
    }
  }
  // Labeling tasks people finished, for predictions without a feedback label.
  ASSIGN_OR_RETURN(auto settled, AggregatedLabels(db, model, config.label_aggregation));
  for (AggregatedTaskLabel& l : settled) {
    if (l.label == "none" || l.strategy == "escalation") continue;  // escalations: feedback above
    const std::string key = l.request_id.value_or("task:" + l.task_id);
    if (human.count(key)) continue;
    FeedbackExample e;
    e.request_id = key;
    e.feedback_id = l.task_id;
    e.text = std::move(l.text);
    e.label = std::move(l.label);
    e.source = "annotation";
    e.confidence = l.confidence;
    e.weight = config.human_label_weight * l.confidence;
    e.propensity = l.propensity;
    e.strategy = std::move(l.strategy);
    e.annotators = l.answers;
    e.ts_ms = l.done_ms;
    out.newest_label_ms = std::max(out.newest_label_ms, e.ts_ms);
    human[key] = std::move(e);
    ++out.annotations;
  }
  out.human_labels = human.size();
  for (auto& [id, e] : human) {
    (SplitBucket(id, 7) < 200000 ? out.evaluation : out.train).push_back(std::move(e));
  }
  // Only the newest recent_labels of the held-out share are evaluated; older ones train.
  std::sort(out.evaluation.begin(), out.evaluation.end(),
            [](const FeedbackExample& a, const FeedbackExample& b) { return a.ts_ms > b.ts_ms; });
  const auto keep = static_cast<size_t>(std::max<int64_t>(0, config.recent_labels));
  while (out.evaluation.size() > keep) {
    out.train.push_back(std::move(out.evaluation.back()));
    out.evaluation.pop_back();
  }

  // Served answers with scored feedback: all scores high → a weak positive.
  struct Scored {
    std::string text, label, feedback_id;
    double propensity = 1, sum = 0, min = 1e9;
    int64_t n = 0, ts_ms = 0;
    bool has_text = true;
  };
  std::map<std::string, Scored> scored;
  {
    ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT p.request_id, p.input_text, COALESCE(p.action, "
                                        "p.label), COALESCE(p.propensity, 1), f.feedback_id, "
                                        "COALESCE(f.explicit_score, f.implicit_score), f.ts_ms "
                                        "FROM feedback f JOIN predictions p ON p.request_id = "
                                        "f.request_id WHERE p.model = ? AND f.label IS NULL AND "
                                        "COALESCE(p.action, '') != 'escalate' AND "
                                        "COALESCE(f.explicit_score, f.implicit_score) IS NOT NULL "
                                        "ORDER BY f.ts_ms, f.feedback_id"));
    q.BindText(1, model);
    for (;;) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      std::string id = q.ColumnText(0);
      if (human.count(id)) continue;  // a person's label says more
      Scored& s = scored[id];
      auto text = q.ColumnTextOrNull(1);
      s.has_text = text.has_value();
      if (text) s.text = *text;
      s.label = q.ColumnText(2);
      s.propensity = q.ColumnDouble(3);
      s.feedback_id = q.ColumnText(4);
      double score = q.ColumnDouble(5);
      s.sum += score;
      s.min = std::min(s.min, score);
      ++s.n;
      s.ts_ms = q.ColumnInt(6);
    }
  }
  for (auto& [id, s] : scored) {
    if (s.min < config.weak_positive_min_score) {
      ++out.low_scored;
      continue;
    }
    if (!s.has_text || s.text.empty()) {
      ++out.without_text;
      continue;
    }
    FeedbackExample e;
    e.request_id = id;
    e.feedback_id = s.feedback_id;
    e.text = std::move(s.text);
    e.label = std::move(s.label);
    e.source = "weak_positive";
    e.score = s.sum / static_cast<double>(s.n);
    e.propensity = s.propensity;
    double ipw = s.propensity > 0 ? 1 / s.propensity : config.max_inverse_propensity;
    e.weight = e.score * std::min(ipw, config.max_inverse_propensity);
    e.ts_ms = s.ts_ms;
    out.train.push_back(std::move(e));
    ++out.weak_positives;
  }
  return out;
}

StatusOr<int64_t> CountHumanLabelsSince(SqliteDb& db, const std::string& model, int64_t since_ms) {
  ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT COUNT(*) FROM feedback f JOIN predictions p ON "
                                      "p.request_id = f.request_id WHERE f.ts_ms > ? AND p.model "
                                      "= ? AND f.label IS NOT NULL"));
  q.BindInt(1, since_ms);
  q.BindText(2, model);
  ASSIGN_OR_RETURN(bool row, q.Step());
  int64_t n = row ? q.ColumnInt(0) : 0;
  ASSIGN_OR_RETURN(auto t, db.Prepare("SELECT COUNT(*) FROM labeling_tasks WHERE model = ? AND "
                                      "status = 'done' AND done_ms > ? AND gold_label IS NULL AND "
                                      "strategy != 'escalation'"));
  t.BindText(1, model);
  t.BindInt(2, since_ms);
  ASSIGN_OR_RETURN(row, t.Step());
  return n + (row ? t.ColumnInt(0) : 0);
}

}  // namespace closedloop
