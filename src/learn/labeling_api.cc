#include "learn/labeling_api.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>

#include "core/json_writer.h"
#include "http/query.h"
#include "learn/labeling_report.h"
#include "learn/labeling_request.h"
#include "store/annotation_store.h"

namespace closedloop {

namespace http = boost::beast::http;

namespace {

void WriteTask(JsonWriter& w, const LabelingTask& t, bool full) {
  w.BeginObject().Key("task_id").String(t.task_id).Key("model").String(t.model);
  w.Key("text").String(t.text).Key("suggestions").Raw(t.suggestions_json);
  if (full) {
    auto opt = [&](const std::optional<std::string>& v) { v ? w.String(*v) : w.Null(); };
    w.Key("request_id");
    opt(t.request_id);
    w.Key("created_ms").Int(t.created_ms).Key("strategy").String(t.strategy);
    w.Key("score").Double(t.score).Key("propensity").Double(t.propensity);
    w.Key("predicted");
    opt(t.predicted);
    w.Key("gold_label");
    opt(t.gold_label);
    w.Key("overlap").Int(t.overlap).Key("hard").Bool(t.hard).Key("status").String(t.status);
    w.Key("answers").Int(t.answers).Key("final_label");
    opt(t.final_label);
    w.Key("done_ms");
    t.done_ms ? w.Int(*t.done_ms) : w.Null();
  }
  w.EndObject();
}

// The `model` query parameter, which the labeling reads need.
StatusOr<std::string> RequiredModel(const std::string& target) {
  auto model = QueryParam(target, "model");
  if (!model || model->empty()) return InvalidArgument("missing parameter 'model'");
  return *model;
}

void Unavailable503(RequestContext& c, const std::string& what) {
  c.headers.emplace_back("Retry-After", "1");
  c.Error(Unavailable(what + "; retry shortly"));
}

}  // namespace

LabelingApi::LabelingApi(const LabelingConfig& config, PredictionLog& log,
                         const ModelRepository& models, LabelingSelector& selector,
                         const Clock& clock)
    : config_(config),
      log_(log),
      models_(models),
      selector_(selector),
      clock_(clock),
      ids_(clock) {}

void LabelingApi::Register(Router& router) {
  router.Add(http::verb::get, "/v1/labeling/queue", [this](RequestContext& c) { Queue(c); });
  router.Add(http::verb::post, "/v1/labeling/tasks/{task_id}/annotations",
             [this](RequestContext& c) { Annotate(c); });
  router.Add(http::verb::get, "/v1/labeling/tasks", [this](RequestContext& c) { ListTasks(c); });
  router.Add(http::verb::get, "/v1/labeling/tasks/{task_id}",
             [this](RequestContext& c) { GetTask(c); });
  router.Add(http::verb::post, "/v1/labeling/select", [this](RequestContext& c) { Select(c); });
  router.Add(http::verb::post, "/v1/labeling/gold", [this](RequestContext& c) { AddGold(c); });
  router.Add(http::verb::get, "/v1/labeling/report", [this](RequestContext& c) { Report(c); });
}

std::vector<std::string> LabelingApi::ModelLabels(const std::string& model) const {
  auto mv = models_.Resolve(model, "");
  if (!mv.ok()) return {};
  return (*mv)->backend->labels();
}

void LabelingApi::Queue(RequestContext& ctx) {
  std::string target(ctx.request.target());
  auto model = RequiredModel(target);
  if (!model.ok()) return ctx.Error(model.status());
  auto limit = QueryInt(target, "limit", 10, 1, 200);
  if (!limit.ok()) return ctx.Error(limit.status());
  std::string annotator = ctx.principal;
  if (annotator.empty()) annotator = QueryParam(target, "annotator").value_or("anonymous");
  const std::vector<std::string> labels = ModelLabels(*model);
  if (labels.empty()) {
    return ctx.Error(NotFound("model '" + *model + "' is not served (no labels to offer)"));
  }
  const uint64_t seed =
      static_cast<uint64_t>(clock_.NowUnixMillis()) ^ std::hash<std::string>{}(annotator);
  // Gold items: gold_share of the page, the fraction drawn at random.
  const double want = static_cast<double>(*limit) * config_.gold_share;
  std::mt19937_64 rng(seed);
  int64_t gold = static_cast<int64_t>(std::floor(want));
  if (std::uniform_real_distribution<double>(0, 1)(rng) < want - std::floor(want)) ++gold;

  JsonWriter w(4096);
  Status s = log_.Read([&](SqliteDb& db) -> Status {
    ASSIGN_OR_RETURN(auto scores, GoldScores(db, *model));
    auto qualified = [&](const GoldScore& g) {
      return g.answered >= config_.hard_min_gold && g.accuracy() >= config_.hard_min_accuracy;
    };
    bool anyone = false;
    for (const auto& [who, g] : scores) anyone = anyone || qualified(g);
    auto mine = scores.find(annotator);
    const bool may_take_hard = !anyone || (mine != scores.end() && qualified(mine->second));
    ASSIGN_OR_RETURN(auto tasks,
                     NextTasksFor(db, *model, annotator, *limit, may_take_hard, gold, seed));
    ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT SUM(a.answer != 'skip'), SUM(a.answer = 'skip'), "
                                        "SUM(t.status = 'done' AND a.answer != 'skip'), "
                                        "SUM(t.status = 'done' AND COALESCE(a.label, a.answer) = "
                                        "t.final_label) FROM annotations a JOIN labeling_tasks t "
                                        "ON t.task_id = a.task_id WHERE t.model = ? AND "
                                        "a.annotator = ? AND t.gold_label IS NULL"));
    q.BindText(1, *model);
    q.BindText(2, annotator);
    ASSIGN_OR_RETURN(bool row, q.Step());
    (void)row;
    const int64_t answered = q.ColumnInt(0), skipped = q.ColumnInt(1), settled = q.ColumnInt(2),
                  agreed = q.ColumnInt(3);
    ASSIGN_OR_RETURN(auto left, db.Prepare("SELECT COUNT(*) FROM labeling_tasks t WHERE t.model = "
                                           "? AND t.status = 'open' AND t.gold_label IS NULL AND "
                                           "(t.hard = 0 OR ?) AND NOT EXISTS (SELECT 1 FROM "
                                           "annotations a WHERE a.task_id = t.task_id AND "
                                           "a.annotator = ?)"));
    left.BindText(1, *model);
    left.BindInt(2, may_take_hard ? 1 : 0);
    left.BindText(3, annotator);
    ASSIGN_OR_RETURN(row, left.Step());
    const int64_t remaining = row ? left.ColumnInt(0) : 0;

    w.BeginObject().Key("model").String(*model).Key("annotator").String(annotator);
    w.Key("labels").BeginArray();
    for (const auto& l : labels) w.String(l);
    w.EndArray().Key("tasks").BeginArray();
    for (const auto& t : tasks) WriteTask(w, t, false);
    w.EndArray().Key("progress").BeginObject().Key("answered").Int(answered);
    w.Key("skipped").Int(skipped).Key("remaining").Int(remaining).Key("agreement");
    settled > 0 ? w.Double(static_cast<double>(agreed) / static_cast<double>(settled)) : w.Null();
    w.Key("settled").Int(settled).EndObject();
    w.Key("may_take_hard").Bool(may_take_hard).EndObject();
    return OkStatus();
  });
  if (!s.ok()) return ctx.Error(s);
  ctx.Json(200, std::move(w).Take());
}

void LabelingApi::Annotate(RequestContext& ctx) {
  auto req = ParseAnnotationRequest(ctx.request.body());
  if (!req.ok()) return ctx.Error(req.status());
  std::string annotator;
  if (!ctx.principal.empty()) {
    if (req->annotator && *req->annotator != ctx.principal) {
      return ctx.Error(
          InvalidArgument("field 'annotator': the annotator is the authenticated "
                          "principal '" +
                          ctx.principal + "'"));
    }
    annotator = ctx.principal;
  } else {
    annotator = req->annotator.value_or("anonymous");
  }
  const std::string task_id(ctx.Param("task_id"));
  StatusOr<LabelingTask> task = NotFound("");
  Status read = log_.Read([&](SqliteDb& db) -> Status {
    task = closedloop::GetTask(db, task_id);
    return OkStatus();
  });
  if (!read.ok()) return ctx.Error(read);
  if (!task.ok()) return ctx.Error(task.status());
  if (req->label && !config_.accept_new_labels) {
    const auto labels = ModelLabels(task->model);
    if (!labels.empty() && std::find(labels.begin(), labels.end(), *req->label) == labels.end()) {
      return ctx.Error(InvalidArgument("field 'label': '" + *req->label +
                                       "' is not a label of model '" + task->model +
                                       "' (labeling.accept_new_labels is off)"));
    }
  }
  auto deferred = ctx.Defer();
  if (!deferred) return ctx.Error(Unavailable("cannot wait for the annotation to be stored"));
  Annotation a;
  a.annotation_id = ids_.Next();
  a.task_id = task_id;
  a.annotator = annotator;
  a.answer = req->answer;
  a.label = req->label;
  a.ts_ms = clock_.NowUnixMillis();
  a.duration_ms = req->duration_ms;
  auto outcome = std::make_shared<AnnotationOutcome>();
  const int max_overlap = config_.max_overlap;
  auto job = [a, outcome, max_overlap](SqliteDb& db) -> Status {
    ASSIGN_OR_RETURN(*outcome, AddAnnotation(db, a, max_overlap, a.ts_ms));
    return OkStatus();
  };
  auto done = [deferred, a, outcome](Status s) {
    deferred->Finish([=](RequestContext& c) {
      if (!s.ok()) return c.Error(s);
      JsonWriter w(512);
      w.BeginObject().Key("annotation_id").String(a.annotation_id);
      w.Key("task_id").String(a.task_id).Key("annotator").String(a.annotator);
      w.Key("answer").String(a.answer).Key("label");
      a.label ? w.String(*a.label) : w.Null();
      w.Key("ts_ms").Int(a.ts_ms);
      w.Key("task").BeginObject().Key("status").String(outcome->task_status);
      w.Key("answers").Int(outcome->answers).Key("overlap").Int(outcome->overlap);
      w.Key("hard").Bool(outcome->hard).Key("final_label");
      outcome->final_label ? w.String(*outcome->final_label) : w.Null();
      w.EndObject().EndObject();
      c.Json(201, std::move(w).Take());
    });
  };
  if (!log_.AppendJob(std::move(job), std::move(done))) {
    deferred->Finish([](RequestContext& c) { Unavailable503(c, "the annotation queue is full"); });
  }
}

void LabelingApi::ListTasks(RequestContext& ctx) {
  std::string target(ctx.request.target());
  auto model = RequiredModel(target);
  if (!model.ok()) return ctx.Error(model.status());
  std::string status = QueryParam(target, "status").value_or("open");
  if (status != "open" && status != "done" && status != "all") {
    return ctx.Error(InvalidArgument("parameter 'status' must be open, done or all"));
  }
  auto limit = QueryInt(target, "limit", 100, 1, 10000);
  if (!limit.ok()) return ctx.Error(limit.status());
  JsonWriter w(8192);
  Status s = log_.Read([&](SqliteDb& db) -> Status {
    ASSIGN_OR_RETURN(auto tasks, closedloop::ListTasks(db, *model, status, *limit));
    w.BeginObject().Key("tasks").BeginArray();
    for (const auto& t : tasks) WriteTask(w, t, true);
    w.EndArray().EndObject();
    return OkStatus();
  });
  if (!s.ok()) return ctx.Error(s);
  ctx.Json(200, std::move(w).Take());
}

void LabelingApi::GetTask(RequestContext& ctx) {
  const std::string id(ctx.Param("task_id"));
  JsonWriter w(2048);
  Status s = log_.Read([&](SqliteDb& db) -> Status {
    ASSIGN_OR_RETURN(LabelingTask t, closedloop::GetTask(db, id));
    ASSIGN_OR_RETURN(auto annotations, TaskAnnotations(db, id));
    w.BeginObject().Key("task");
    WriteTask(w, t, true);
    w.Key("annotations").BeginArray();
    for (const Annotation& a : annotations) {
      w.BeginObject().Key("annotation_id").String(a.annotation_id);
      w.Key("annotator").String(a.annotator).Key("answer").String(a.answer).Key("label");
      a.label ? w.String(*a.label) : w.Null();
      w.Key("ts_ms").Int(a.ts_ms).Key("duration_ms");
      a.duration_ms ? w.Int(*a.duration_ms) : w.Null();
      w.Key("source").String(a.source).EndObject();
    }
    w.EndArray().EndObject();
    return OkStatus();
  });
  if (!s.ok()) return ctx.Error(s);
  ctx.Json(200, std::move(w).Take());
}

void LabelingApi::Select(RequestContext& ctx) {
  auto req = ParseSelectionRequest(ctx.request.body());
  if (!req.ok()) return ctx.Error(req.status());
  auto deferred = ctx.Defer();
  if (!deferred) return ctx.Error(Unavailable("cannot wait for the selection"));
  selector_.SelectAsync(std::move(req).value(), [deferred](StatusOr<SelectionSummary> s) {
    std::string body;
    if (s.ok()) {
      JsonWriter w(4096);
      w.BeginObject().Key("model").String(s->model).Key("version").String(s->version);
      w.Key("strategy").String(s->strategy).Key("pool").Int(static_cast<int64_t>(s->pool));
      w.Key("committee").Int(static_cast<int64_t>(s->committee));
      w.Key("budget_left");
      s->budget_left >= 0 ? w.Int(s->budget_left) : w.Null();
      w.Key("note").String(s->note).Key("tasks").BeginArray();
      for (const auto& t : s->tasks) WriteTask(w, t, true);
      w.EndArray().EndObject();
      body = std::move(w).Take();
    }
    deferred->Finish([s = std::move(s), body = std::move(body)](RequestContext& c) {
      if (!s.ok()) return c.Error(s.status());
      c.Json(200, body);
    });
  });
}

void LabelingApi::AddGold(RequestContext& ctx) {
  auto req = ParseGoldRequest(ctx.request.body());
  if (!req.ok()) return ctx.Error(req.status());
  auto mv = models_.Resolve(req->model, "");
  if (!mv.ok()) return ctx.Error(NotFound("model '" + req->model + "' is not served"));
  const Backend& backend = *(*mv)->backend;
  const auto& labels = backend.labels();
  std::vector<LabelingTask> tasks;
  const int64_t now = clock_.NowUnixMillis();
  for (size_t i = 0; i < req->items.size(); ++i) {
    const GoldItem& g = req->items[i];
    if (!config_.accept_new_labels && g.label != "none" && g.label != "oos" &&
        std::find(labels.begin(), labels.end(), g.label) == labels.end()) {
      return ctx.Error(InvalidArgument("field 'items[" + std::to_string(i) + "].label': '" +
                                       g.label + "' is not a label of model '" + req->model + "'"));
    }
    LabelingTask t;
    t.task_id = ids_.Next();
    t.model = (*mv)->name;
    t.text = g.text;
    t.created_ms = now;
    t.strategy = "gold";
    t.gold_label = g.label;
    t.overlap = 0;
    if (auto scores = backend.PredictText(g.text, 5); scores.ok()) {
      JsonWriter w(256);
      w.BeginArray();
      for (const auto& s : *scores) {
        w.BeginObject().Key("label").String(labels[static_cast<size_t>(s.index)]);
        w.Key("p").Double(s.p).EndObject();
      }
      w.EndArray();
      t.suggestions_json = std::move(w).Take();
      if (!scores->empty()) t.predicted = labels[static_cast<size_t>((*scores)[0].index)];
    }
    tasks.push_back(std::move(t));
  }
  auto deferred = ctx.Defer();
  if (!deferred) return ctx.Error(Unavailable("cannot wait for the gold items to be stored"));
  auto job = [tasks](SqliteDb& db) -> Status {
    for (const auto& t : tasks) RETURN_IF_ERROR(InsertTask(db, t).status());
    return OkStatus();
  };
  auto done = [deferred, tasks](Status s) {
    deferred->Finish([=](RequestContext& c) {
      if (!s.ok()) return c.Error(s);
      JsonWriter w(1024);
      w.BeginObject().Key("tasks").BeginArray();
      for (const auto& t : tasks) WriteTask(w, t, true);
      w.EndArray().EndObject();
      c.Json(201, std::move(w).Take());
    });
  };
  if (!log_.AppendJob(std::move(job), std::move(done))) {
    deferred->Finish([](RequestContext& c) { Unavailable503(c, "the queue is full"); });
  }
}

void LabelingApi::Report(RequestContext& ctx) {
  std::string target(ctx.request.target());
  auto model = RequiredModel(target);
  if (!model.ok()) return ctx.Error(model.status());
  std::string body;
  Status s = log_.Read([&](SqliteDb& db) -> Status {
    ASSIGN_OR_RETURN(auto r, BuildLabelingReport(db, *model, config_, clock_.NowUnixMillis()));
    body = LabelingReportJson(r);
    return OkStatus();
  });
  if (!s.ok()) return ctx.Error(s);
  ctx.Json(200, std::move(body));
}

}  // namespace closedloop
