// ArtifactApi: MLflow's artifact REST API, as `mlflow server --serve-artifacts`
// has it, over the ArtifactStore (<data_dir>/artifacts):
//   PUT    /api/2.0/mlflow-artifacts/artifacts/{path}   upload (body = the file, any
//          Content-Type, up to server.upload_limit_bytes) -> {}
//   GET    /api/2.0/mlflow-artifacts/artifacts/{path}   download (the bytes)
//   DELETE /api/2.0/mlflow-artifacts/artifacts/{path}   a file or a directory -> {}
//   GET    /api/2.0/mlflow-artifacts/artifacts?path=DIR  list ->
//          {"files": [{"path": NAME, "is_dir": B, "file_size": N}]} (names only)
//   GET    /api/2.0/mlflow/artifacts/list?run_id=R&path=DIR  a run's artifacts ->
//          {"root_uri": URI, "files": [{"path": DIR/NAME, ...}]}
// Runs' artifact_uri is mlflow-artifacts:/<experiment>/<run>/artifacts, which
// clients turn into the URLs above. {path} is percent-decoded; paths that are
// absolute or hold "." / ".." segments are 400 INVALID_PARAMETER_VALUE; absent
// files 404 RESOURCE_DOES_NOT_EXIST (MLflow's error format).
// Thread safety: handlers only call the thread-safe stores.
#pragma once

#include <cstddef>

#include "http/router.h"
#include "tracking/artifact_store.h"
#include "tracking/tracking_store.h"

namespace closedloop {

class ArtifactApi {
 public:
  ArtifactApi(ArtifactStore& artifacts, TrackingStore& runs, size_t upload_limit_bytes)
      : artifacts_(artifacts), runs_(runs), upload_limit_bytes_(upload_limit_bytes) {}
  void Register(Router& router);

 private:
  ArtifactStore& artifacts_;
  TrackingStore& runs_;
  const size_t upload_limit_bytes_;
};

// The store-relative path of an artifact URI: "mlflow-artifacts:/a/b" -> "a/b", a
// local path under `root` -> its relative part; InvalidArgument otherwise.
StatusOr<std::string> ArtifactPathOfUri(std::string_view uri, const std::string& root);

}  // namespace closedloop
