// LabelingApi: the human half of the loop over HTTP.
//   GET  /v1/labeling/queue?model=M&limit=N[&annotator=A]      (scope label)
//        the next tasks for the calling annotator, with the model's labels and
//        suggestions, and their progress and agreement. Gold items are mixed in
//        ([labeling] gold_share) and look like any other task. Hard tasks go to
//        annotators whose gold accuracy reaches hard_min_accuracy (after
//        hard_min_gold gold answers) — to anyone while nobody has that record.
//   POST /v1/labeling/tasks/{id}/annotations                    (scope label)
//        one answer (learn/labeling_request.h) → 201. 404 unknown task; 400 a label
//        the model does not know (unless accept_new_labels); 409 the annotator
//        already answered the task (answers are final). Answered once committed.
//   GET  /v1/labeling/tasks?model=M&status=open|done|all&limit=N (admin)
//   GET  /v1/labeling/tasks/{id}                                 (admin) with its annotations
//   POST /v1/labeling/select {model, strategy?, batch?, ...}     (admin) one selection now
//   POST /v1/labeling/gold {model, items:[{text, label}]}        (admin) gold items
//   GET  /v1/labeling/report?model=M                             (admin) learn/labeling_report.h
// The annotator is the authenticated principal; without [auth], the body's or
// query's `annotator` (default "anonymous").
// Thread safety: handlers run on any io thread; writes go through the prediction
// log's writer, selections through the selector's thread.
#pragma once

#include "core/clock.h"
#include "core/config.h"
#include "core/ulid.h"
#include "http/router.h"
#include "learn/labeling_selector.h"
#include "serving/model_repository.h"
#include "store/prediction_log.h"

namespace closedloop {

class LabelingApi {
 public:
  LabelingApi(const LabelingConfig& config, PredictionLog& log, const ModelRepository& models,
              LabelingSelector& selector, const Clock& clock);
  void Register(Router& router);

 private:
  void Queue(RequestContext& ctx);
  void Annotate(RequestContext& ctx);
  void ListTasks(RequestContext& ctx);
  void GetTask(RequestContext& ctx);
  void Select(RequestContext& ctx);
  void AddGold(RequestContext& ctx);
  void Report(RequestContext& ctx);
  // Labels `model` serves now (empty when it is not loaded).
  std::vector<std::string> ModelLabels(const std::string& model) const;

  const LabelingConfig config_;
  PredictionLog& log_;
  const ModelRepository& models_;
  LabelingSelector& selector_;
  const Clock& clock_;
  UlidGenerator ids_;
};

}  // namespace closedloop
