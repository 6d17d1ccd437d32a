// RetrainApi: the HTTP routes of the retraining scheduler.
//   POST /v1/retrain {model}  queue a retraining (202); 409 when one is queued
//   GET  /v1/retrains         {running, queued, recent: [outcome with its gates]}
// Thread safety: handlers run on any io thread; the scheduler is thread-safe.
#pragma once

#include "http/router.h"
#include "learn/retrain_scheduler.h"
#include "tracking/model_registry.h"

namespace closedloop {

class RetrainApi {
 public:
  RetrainApi(RetrainScheduler& scheduler, ModelRegistry& registry)
      : scheduler_(scheduler), registry_(registry) {}
  void Register(Router& router);

 private:
  void Request(RequestContext& ctx);
  void List(RequestContext& ctx);
  RetrainScheduler& scheduler_;
  ModelRegistry& registry_;
};

}  // namespace closedloop
