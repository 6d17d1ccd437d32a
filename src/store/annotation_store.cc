#include "store/annotation_store.h"

#include <algorithm>
#include <random>

namespace closedloop {

namespace {

constexpr const char* kTaskColumns =
    "t.task_id, t.model, t.request_id, t.text, t.created_ms, t.strategy, t.score, t.propensity, "
    "t.suggestions, t.predicted, t.gold_label, t.overlap, t.hard, t.status, t.final_label, "
    "t.done_ms, (SELECT COUNT(*) FROM annotations a WHERE a.task_id = t.task_id AND a.answer != "
    "'skip')";

LabelingTask TaskFromRow(const SqliteStatement& q) {
  LabelingTask t;
  t.task_id = q.ColumnText(0);
  t.model = q.ColumnText(1);
  t.request_id = q.ColumnTextOrNull(2);
  t.text = q.ColumnText(3);
  t.created_ms = q.ColumnInt(4);
  t.strategy = q.ColumnText(5);
  t.score = q.ColumnDouble(6);
  t.propensity = q.ColumnDouble(7);
  t.suggestions_json = q.ColumnText(8);
  t.predicted = q.ColumnTextOrNull(9);
  t.gold_label = q.ColumnTextOrNull(10);
  t.overlap = static_cast<int>(q.ColumnInt(11));
  t.hard = q.ColumnInt(12) != 0;
  t.status = q.ColumnText(13);
  t.final_label = q.ColumnTextOrNull(14);
  if (q.ColumnTextOrNull(15)) t.done_ms = q.ColumnInt(15);
  t.answers = static_cast<int>(q.ColumnInt(16));
  return t;
}

StatusOr<std::vector<LabelingTask>> Collect(SqliteStatement& q) {
  std::vector<LabelingTask> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(TaskFromRow(q));
  }
  return out;
}

}  // namespace

std::string AnswerClass(const std::string& answer, const std::optional<std::string>& label) {
  return answer == "label" && label ? *label : answer;
}

StatusOr<bool> InsertTask(SqliteDb& db, const LabelingTask& t) {
  ASSIGN_OR_RETURN(auto q, db.Prepare("INSERT OR IGNORE INTO labeling_tasks (task_id, model, "
                                      "request_id, text, created_ms, strategy, score, propensity, "
                                      "suggestions, predicted, gold_label, overlap, hard, status, "
                                      "final_label, done_ms) VALUES "
                                      "(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"));
  q.BindText(1, t.task_id);
  q.BindText(2, t.model);
  t.request_id ? q.BindText(3, *t.request_id) : q.BindNull(3);
  q.BindText(4, t.text);
  q.BindInt(5, t.created_ms);
  q.BindText(6, t.strategy);
  q.BindDouble(7, t.score);
  q.BindDouble(8, t.propensity);
  q.BindText(9, t.suggestions_json);
  t.predicted ? q.BindText(10, *t.predicted) : q.BindNull(10);
  t.gold_label ? q.BindText(11, *t.gold_label) : q.BindNull(11);
  q.BindInt(12, t.overlap);
  q.BindInt(13, t.hard ? 1 : 0);
  q.BindText(14, t.status);
  t.final_label ? q.BindText(15, *t.final_label) : q.BindNull(15);
  t.done_ms ? q.BindInt(16, *t.done_ms) : q.BindNull(16);
  RETURN_IF_ERROR(q.Step().status());
  return db.Changes() > 0;
}

StatusOr<LabelingTask> GetTask(SqliteDb& db, const std::string& task_id) {
  ASSIGN_OR_RETURN(auto q, db.Prepare(std::string("SELECT ") + kTaskColumns +
                                      " FROM labeling_tasks t WHERE t.task_id = ?"));
  q.BindText(1, task_id);
  ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return NotFound("no labeling task with id '" + task_id + "'");
  return TaskFromRow(q);
}

StatusOr<std::optional<LabelingTask>> FindTaskByRequest(SqliteDb& db,
                                                        const std::string& request_id) {
  ASSIGN_OR_RETURN(auto q, db.Prepare(std::string("SELECT ") + kTaskColumns +
                                      " FROM labeling_tasks t WHERE t.request_id = ?"));
  q.BindText(1, request_id);
  ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return std::optional<LabelingTask>();
  return std::optional<LabelingTask>(TaskFromRow(q));
}

StatusOr<std::vector<LabelingTask>> ListTasks(SqliteDb& db, const std::string& model,
                                              const std::string& status, int64_t limit) {
  ASSIGN_OR_RETURN(auto q, db.Prepare(std::string("SELECT ") + kTaskColumns +
                                      " FROM labeling_tasks t WHERE t.model = ? AND (? = 'all' "
                                      "OR t.status = ?) ORDER BY t.created_ms DESC, t.task_id "
                                      "DESC LIMIT ?"));
  q.BindText(1, model);
  q.BindText(2, status);
  q.BindText(3, status);
  q.BindInt(4, limit);
  return Collect(q);
}

StatusOr<std::vector<Annotation>> TaskAnnotations(SqliteDb& db, const std::string& task_id) {
  ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT annotation_id, task_id, annotator, answer, label, "
                                      "ts_ms, duration_ms, source FROM annotations WHERE task_id "
                                      "= ? ORDER BY ts_ms, annotation_id"));
  q.BindText(1, task_id);
  std::vector<Annotation> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    Annotation a;
    a.annotation_id = q.ColumnText(0);
    a.task_id = q.ColumnText(1);
    a.annotator = q.ColumnText(2);
    a.answer = q.ColumnText(3);
    a.label = q.ColumnTextOrNull(4);
    a.ts_ms = q.ColumnInt(5);
    if (q.ColumnTextOrNull(6)) a.duration_ms = q.ColumnInt(6);
    a.source = q.ColumnText(7);
    out.push_back(std::move(a));
  }
  return out;
}

StatusOr<std::vector<LabelingTask>> NextTasksFor(SqliteDb& db, const std::string& model,
                                                 const std::string& annotator, int64_t limit,
                                                 bool may_take_hard, int64_t gold, uint64_t seed) {
  ASSIGN_OR_RETURN(auto q, db.Prepare(std::string("SELECT ") + kTaskColumns +
                                      " FROM labeling_tasks t WHERE t.model = ? AND t.status = "
                                      "'open' AND t.gold_label IS NULL AND (t.hard = 0 OR ?) AND "
                                      "NOT EXISTS (SELECT 1 FROM annotations a WHERE a.task_id = "
                                      "t.task_id AND a.annotator = ?) ORDER BY t.hard DESC, 17 "
                                      "DESC, t.score DESC, t.created_ms, t.task_id LIMIT ?"));
  q.BindText(1, model);
  q.BindInt(2, may_take_hard ? 1 : 0);
  q.BindText(3, annotator);
  q.BindInt(4, limit);
  ASSIGN_OR_RETURN(std::vector<LabelingTask> tasks, Collect(q));
  if (gold <= 0) return tasks;
  ASSIGN_OR_RETURN(auto g, db.Prepare(std::string("SELECT ") + kTaskColumns +
                                      " FROM labeling_tasks t WHERE t.model = ? AND "
                                      "t.gold_label IS NOT NULL AND NOT EXISTS (SELECT 1 FROM "
                                      "annotations a WHERE a.task_id = t.task_id AND a.annotator "
                                      "= ?) ORDER BY t.created_ms, t.task_id"));
  g.BindText(1, model);
  g.BindText(2, annotator);
  ASSIGN_OR_RETURN(std::vector<LabelingTask> golds, Collect(g));
  std::mt19937_64 rng(seed);
  std::shuffle(golds.begin(), golds.end(), rng);
  golds.resize(std::min<size_t>(golds.size(), static_cast<size_t>(gold)));
  for (auto& t : golds) {
    std::uniform_int_distribution<size_t> at(0, tasks.size());
    tasks.insert(tasks.begin() + static_cast<std::ptrdiff_t>(at(rng)), std::move(t));
  }
  if (static_cast<int64_t>(tasks.size()) > limit) tasks.resize(static_cast<size_t>(limit));
  return tasks;
}

StatusOr<AnnotationOutcome> AddAnnotation(SqliteDb& db, const Annotation& a, int max_overlap,
                                          int64_t now_ms) {
  ASSIGN_OR_RETURN(LabelingTask task, GetTask(db, a.task_id));
  {
    ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT answer, label FROM annotations WHERE task_id = ? "
                                        "AND annotator = ?"));
    q.BindText(1, a.task_id);
    q.BindText(2, a.annotator);
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (row) {
      return AlreadyExists("annotator '" + a.annotator + "' already answered task '" + a.task_id +
                           "' (" + AnswerClass(q.ColumnText(0), q.ColumnTextOrNull(1)) +
                           "); an annotation cannot be changed");
    }
  }
  ASSIGN_OR_RETURN(auto ins, db.Prepare("INSERT INTO annotations (task_id, annotator, "
                                        "annotation_id, answer, label, ts_ms, duration_ms, "
                                        "source) VALUES (?,?,?,?,?,?,?,?)"));
  ins.BindText(1, a.task_id);
  ins.BindText(2, a.annotator);
  ins.BindText(3, a.annotation_id);
  ins.BindText(4, a.answer);
  a.label ? ins.BindText(5, *a.label) : ins.BindNull(5);
  ins.BindInt(6, a.ts_ms);
  a.duration_ms ? ins.BindInt(7, *a.duration_ms) : ins.BindNull(7);
  ins.BindText(8, a.source);
  RETURN_IF_ERROR(ins.Step().status());

  ASSIGN_OR_RETURN(std::vector<Annotation> all, TaskAnnotations(db, a.task_id));
  AnnotationOutcome out;
  out.overlap = task.overlap;
  out.hard = task.hard;
  out.task_status = task.status;
  out.final_label = task.final_label;
  std::vector<std::string> classes;  // non-skip answers in order
  for (const Annotation& x : all) {
    if (x.answer != "skip") classes.push_back(AnswerClass(x.answer, x.label));
  }
  out.answers = static_cast<int>(classes.size());
  if (task.gold_label || task.status != "open" || out.answers < task.overlap) return out;

  const bool unanimous = std::all_of(classes.begin(), classes.end(),
                                     [&](const std::string& c) { return c == classes.front(); });
  if (!unanimous && task.overlap < max_overlap) {
    out.overlap = max_overlap;
    out.hard = true;
    ASSIGN_OR_RETURN(auto up, db.Prepare("UPDATE labeling_tasks SET overlap = ?, hard = 1 WHERE "
                                         "task_id = ?"));
    up.BindInt(1, max_overlap);
    up.BindText(2, a.task_id);
    RETURN_IF_ERROR(up.Step().status());
    return out;
  }
  // Done: the majority answer (ties: the answer given first).
  std::map<std::string, int> counts;
  for (const auto& c : classes) ++counts[c];
  std::string best = classes.front();
  for (const auto& c : classes) {
    if (counts[c] > counts[best]) best = c;
  }
  ASSIGN_OR_RETURN(auto up, db.Prepare("UPDATE labeling_tasks SET status = 'done', final_label = "
                                       "?, done_ms = ? WHERE task_id = ?"));
  up.BindText(1, best);
  up.BindInt(2, now_ms);
  up.BindText(3, a.task_id);
  RETURN_IF_ERROR(up.Step().status());
  out.task_status = "done";
  out.final_label = best;
  return out;
}

StatusOr<int64_t> CountSelectedSince(SqliteDb& db, const std::string& model, int64_t since_ms) {
  ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT COUNT(*) FROM labeling_tasks WHERE model = ? AND "
                                      "created_ms >= ? AND strategy NOT IN ('gold', "
                                      "'escalation')"));
  q.BindText(1, model);
  q.BindInt(2, since_ms);
  ASSIGN_OR_RETURN(bool row, q.Step());
  return row ? q.ColumnInt(0) : 0;
}

StatusOr<std::map<std::string, GoldScore>> GoldScores(SqliteDb& db, const std::string& model) {
  ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT a.annotator, a.answer, a.label, t.gold_label FROM "
                                      "annotations a JOIN labeling_tasks t ON t.task_id = "
                                      "a.task_id WHERE t.model = ? AND t.gold_label IS NOT NULL "
                                      "AND a.answer != 'skip'"));
  q.BindText(1, model);
  std::map<std::string, GoldScore> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    GoldScore& g = out[q.ColumnText(0)];
    ++g.answered;
    if (AnswerClass(q.ColumnText(1), q.ColumnTextOrNull(2)) == q.ColumnText(3)) ++g.correct;
  }
  return out;
}

}  // namespace closedloop
