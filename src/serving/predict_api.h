// PredictApi: the HTTP routes of the serving component.
//   POST /v1/predict                     classify text with a model (name, name@alias, version)
//   GET  /v1/predictions/{request_id}    the stored record of one prediction
//   GET  /v1/models                      every model version and whether it loaded
//
// Every successful prediction is appended to the PredictionLog before the
// response is sent. A request for a model's champion follows the model's traffic
// split when a rollout set one (serving/traffic_split.h); the request key is the
// X-Routing-Key header, else the request id. Thread safety: handlers run concurrently on all io
// threads; the API holds only immutable configuration and thread-safe collaborators.
#pragma once

#include <chrono>

#include "core/clock.h"
#include "core/config.h"
#include "http/router.h"
#include "monitor/metrics.h"
#include "serving/model_repository.h"
#include "serving/predict_request.h"
#include "serving/traffic_split.h"
#include "store/prediction_log.h"

namespace closedloop {

class PredictApi {
 public:
  // All references must outlive the API (and the server that calls it).
  PredictApi(const ServingConfig& serving, const PredictionLogConfig& log_config,
             ModelRepository& models, PredictionLog& log, MetricsRegistry& metrics,
             const Clock& clock, const TrafficSplits* splits = nullptr);
  void Register(Router& router);

  void Predict(RequestContext& ctx);
  void GetPrediction(RequestContext& ctx);
  void ListModels(RequestContext& ctx);

 private:
  void PredictTabular(RequestContext& ctx, PredictRequest& req, const RoutedVersion& routed,
                      std::chrono::steady_clock::time_point start);
  const ServingConfig serving_;
  const bool store_inputs_;
  ModelRepository& models_;
  PredictionLog& log_;
  const Clock& clock_;
  const TrafficSplits* splits_;  // optional
  Family<Histogram>* compute_seconds_;
};

}  // namespace closedloop
