// OipApi: the Open Inference Protocol v2 REST routes (KServe / Triton), over the
// same model repository and prediction log as /v1/predict.
//   GET  /v2                                              server metadata
//   GET  /v2/models/{m}[/versions/{v}]                    model metadata
//   GET  /v2/models/{m}[/versions/{v}]/ready              200 empty body, or 400/404 with error
//   GET  /v2/models/{m}[/versions/{v}]/config             Triton's model configuration
//   GET  /v2/models[/{m}[/versions/{v}]]/stats            Triton's statistics extension
//   POST /v2/models/{m}[/versions/{v}]/infer              inference: JSON, or a JSON header
//        (length in Inference-Header-Content-Length) and binary tensor data
// A model that does not exist is 404; one that exists but does not serve (its load
// failed, or it was unloaded) is 503 on infer and 400 on ready.
// {m} may be "name@alias". Models with batching.max_batch_size > 1 go through
// their Batcher (the response is deferred; a full queue answers 503 with
// Retry-After). Rows of a classifier's inference are logged like
// /v1/predict predictions (one record per row). Errors are {"error": "..."}.
// Thread safety: as PredictApi (handlers run concurrently, no shared mutable state).
#pragma once

#include "core/clock.h"
#include "core/config.h"
#include "http/router.h"
#include "serving/infer_request.h"
#include "serving/model_repository.h"
#include "store/prediction_log.h"

namespace closedloop {

class OipApi {
 public:
  // All references must outlive the API.
  OipApi(const ServingConfig& serving, const PredictionLogConfig& log_config,
         ModelRepository& models, PredictionLog& log, const Clock& clock);
  void Register(Router& router);

 private:
  void ServerMetadata(RequestContext& ctx);
  void ModelMetadata(RequestContext& ctx);
  void ModelReady(RequestContext& ctx);
  void ModelConfig(RequestContext& ctx);
  void Stats(RequestContext& ctx);
  void Infer(RequestContext& ctx);
  struct InferCall;  // what the response needs, kept across a batched (deferred) call
  void Respond(RequestContext& ctx, const InferCall& call, StatusOr<std::vector<Tensor>> outputs);
  // Answers with `status` and counts a failed inference of the call's model.
  void Fail(RequestContext& ctx, const InferCall& call, const Status& status);
  void LogImageRows(RequestContext& ctx, const InferCall& call, const std::vector<Tensor>& outputs,
                    std::chrono::steady_clock::time_point end);
  void LogRows(RequestContext& ctx, const InferCall& call, const std::vector<Tensor>& outputs,
               std::chrono::steady_clock::time_point end);
  StatusOr<std::shared_ptr<const ModelVersion>> Resolve(RequestContext& ctx);

  const ServingConfig serving_;
  const bool store_inputs_;
  ModelRepository& models_;
  PredictionLog& log_;
  const Clock& clock_;
};

}  // namespace closedloop
