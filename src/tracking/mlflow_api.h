// MlflowApi: the MLflow REST API 2.0 subset under /api/2.0/mlflow/ that MLflow's
// clients use for tracking: experiments (create, get, get-by-name, search), runs
// (create, update, get, search, log-metric, log-parameter, log-batch, set-tag,
// delete) and metrics/get-history. Errors use MLflow's format
// {"error_code": "...", "message": "..."}: RESOURCE_DOES_NOT_EXIST -> 404,
// INVALID_PARAMETER_VALUE and RESOURCE_ALREADY_EXISTS -> 400, unknown endpoint
// -> 404 ENDPOINT_NOT_FOUND. int64 fields are accepted as numbers or strings.
// Thread safety: handlers only call the thread-safe TrackingStore.
#pragma once

#include "http/router.h"
#include "tracking/tracking_store.h"

namespace closedloop {

class MlflowApi {
 public:
  explicit MlflowApi(TrackingStore& store, const Clock& clock) : store_(store), clock_(clock) {}
  void Register(Router& router);

 private:
  TrackingStore& store_;
  const Clock& clock_;
};

}  // namespace closedloop
