// RegistryApi: MLflow's model-registry REST endpoints under /api/2.0/mlflow/:
// registered-models create|get|search|update|delete|set-tag|delete-tag|
// get-latest-versions, model-versions create|get|search (filter, order_by,
// max_results, page_token -> next_page_token)|update|delete|transition-stage
// (archive_existing_versions)|set-tag|delete-tag|get-download-uri,
// registered-models/alias (POST set, GET, DELETE), with
// MLflow's JSON shapes (versions as strings, times in ms) and error format.
// closedloop's lineage fields of a version (SHA-256 and size of the model file,
// flavor, storage path, headline metrics) are returned as "closedloop.*" tags.
// Also GET /v1/models/{name}/versions/{version}/card: the model card (markdown).
// Thread safety: handlers only call the thread-safe ModelRegistry.
#pragma once

#include "http/router.h"
#include "tracking/model_registry.h"

namespace closedloop {

class RegistryApi {
 public:
  explicit RegistryApi(ModelRegistry& registry) : registry_(registry) {}
  // Register before MlflowApi, whose catch-all answers unknown MLflow endpoints.
  void Register(Router& router);

 private:
  ModelRegistry& registry_;
};

}  // namespace closedloop
