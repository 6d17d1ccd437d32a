// PredictApi: the HTTP routes of the serving component.
//   POST /v1/predict                     classify text, a feature row or an image with a
//                                        model (name, name@alias, version)
//   POST /v1/inference                   the same, answered with "prediction" (the label)
//                                        too; "model" may be left out when one model (or
//                                        one image model) is served
//   GET  /health                         liveness, as GET /v2/health/live
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

  void Predict(RequestContext& ctx) { Serve(ctx, false); }
  void Inference(RequestContext& ctx) { Serve(ctx, true); }
  void GetPrediction(RequestContext& ctx);
  void ListModels(RequestContext& ctx);

 private:
  struct ImageCall;
  void Serve(RequestContext& ctx, bool inference);
  // The model /v1/inference serves when the request names none.
  StatusOr<std::string> DefaultModel() const;
  void PredictTabular(RequestContext& ctx, PredictRequest& req, const RoutedVersion& routed,
                      std::chrono::steady_clock::time_point start, bool inference);
  void PredictImage(RequestContext& ctx, PredictRequest& req, RoutedVersion routed,
                    std::chrono::steady_clock::time_point start, bool inference);
  void FinishImage(RequestContext& ctx, ImageCall& call, StatusOr<std::vector<Tensor>> outputs);
  const ServingConfig serving_;
  const bool store_inputs_;
  ModelRepository& models_;
  PredictionLog& log_;
  const Clock& clock_;
  const TrafficSplits* splits_;  // optional
  Family<Histogram>* compute_seconds_;
};

}  // namespace closedloop
