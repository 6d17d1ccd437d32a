#include "learn/aggregated_labels.h"

#include <map>

#include "store/annotation_store.h"

namespace closedloop {

StatusOr<ModelAnswers> LoadModelAnswers(SqliteDb& db, const std::string& model) {
  ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT a.task_id, a.annotator, a.answer, a.label FROM "
                                      "annotations a JOIN labeling_tasks t ON t.task_id = "
                                      "a.task_id WHERE t.model = ? AND a.answer != 'skip' ORDER "
                                      "BY a.ts_ms, a.annotation_id"));
  q.BindText(1, model);
  ModelAnswers out;
  std::map<std::string, size_t> items, annotators, classes;
  auto index = [](std::map<std::string, size_t>& m, std::vector<std::string>& names,
                  const std::string& key) {
    auto [it, added] = m.emplace(key, names.size());
    if (added) names.push_back(key);
    return it->second;
  };
  for (;;) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    ItemAnswer x;
    x.item = index(items, out.task_ids, q.ColumnText(0));
    x.annotator = index(annotators, out.annotators, q.ColumnText(1));
    x.label = static_cast<int>(
        index(classes, out.answers, AnswerClass(q.ColumnText(2), q.ColumnTextOrNull(3))));
    out.set.answers.push_back(x);
  }
  out.set.items = out.task_ids.size();
  out.set.annotators = out.annotators.size();
  out.set.classes = out.answers.size();
  return out;
}

StatusOr<std::vector<AggregatedTaskLabel>> AggregatedLabels(SqliteDb& db, const std::string& model,
                                                            const std::string& method) {
  if (method != "majority" && method != "dawid_skene") {
    return InvalidArgument("aggregation must be majority or dawid_skene, not '" + method + "'");
  }
  std::vector<AggregatedTaskLabel> out;
  ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT task_id, request_id, text, final_label, strategy, "
                                      "propensity, predicted, done_ms, (SELECT COUNT(*) FROM "
                                      "annotations a WHERE a.task_id = t.task_id AND a.answer != "
                                      "'skip'), (SELECT COUNT(*) FROM annotations a WHERE "
                                      "a.task_id = t.task_id AND a.answer != 'skip' AND "
                                      "COALESCE(a.label, a.answer) = t.final_label) FROM "
                                      "labeling_tasks t WHERE model = ? AND status = 'done' AND "
                                      "gold_label IS NULL ORDER BY done_ms, task_id"));
  q.BindText(1, model);
  for (;;) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    AggregatedTaskLabel l;
    l.task_id = q.ColumnText(0);
    l.request_id = q.ColumnTextOrNull(1);
    l.text = q.ColumnText(2);
    l.label = q.ColumnText(3);
    l.strategy = q.ColumnText(4);
    l.propensity = q.ColumnDouble(5);
    l.predicted = q.ColumnTextOrNull(6);
    l.done_ms = q.ColumnInt(7);
    l.answers = static_cast<int>(q.ColumnInt(8));
    l.confidence = l.answers > 0 ? static_cast<double>(q.ColumnInt(9)) / l.answers : 1;
    out.push_back(std::move(l));
  }
  if (method == "majority") return out;

  ASSIGN_OR_RETURN(ModelAnswers answers, LoadModelAnswers(db, model));
  DawidSkeneResult ds = DawidSkene(answers.set);
  std::map<std::string, AggregatedLabel> by_task;
  for (size_t i = 0; i < answers.task_ids.size(); ++i) by_task[answers.task_ids[i]] = ds.labels[i];
  for (AggregatedTaskLabel& l : out) {
    auto it = by_task.find(l.task_id);
    if (it == by_task.end() || it->second.label < 0) continue;
    l.label = answers.answers[static_cast<size_t>(it->second.label)];
    l.confidence = it->second.confidence;
  }
  return out;
}

}  // namespace closedloop
