// TrackingStore: experiments, runs, params, metrics and tags with MLflow's
// semantics, in SQLite (tracking.db, WAL). Params are immutable once logged (the
// same value again is fine), metrics append (history per key; a run's current
// value is the one with the highest step, then the latest timestamp), tags
// overwrite. A log-batch is one transaction: all of it or none of it.
//
// Errors: NotFound (unknown experiment/run), InvalidArgument (bad value, changed
// param), AlreadyExists (duplicate experiment name); the MLflow API maps them to
// MLflow's error codes. Thread safety: every method is safe from any thread (one
// connection behind a mutex: this is control-plane traffic, not the request path).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "store/sqlite_db.h"

namespace closedloop {

using KeyValues = std::vector<std::pair<std::string, std::string>>;

struct Experiment {
  std::string experiment_id;
  std::string name;
  std::string artifact_location;
  std::string lifecycle_stage;  // active | deleted
  int64_t creation_time = 0;
  int64_t last_update_time = 0;
  KeyValues tags;
};

struct RunInfo {
  std::string run_id;
  std::string run_name;
  std::string experiment_id;
  std::string user_id;
  std::string status;  // RUNNING | SCHEDULED | FINISHED | FAILED | KILLED
  int64_t start_time = 0;
  std::optional<int64_t> end_time;
  std::string artifact_uri;
  std::string lifecycle_stage;
};

struct Metric {
  std::string key;
  double value = 0;  // NaN allowed
  int64_t timestamp = 0;
  int64_t step = 0;
};

struct Run {
  RunInfo info;
  std::vector<Metric> metrics;  // current value per key
  KeyValues params;
  KeyValues tags;
};

class TrackingStore {
 public:
  // `artifact_root`: experiments' default artifact location is <root>/<experiment_id>.
  static StatusOr<std::unique_ptr<TrackingStore>> Open(const std::string& path,
                                                       const std::string& artifact_root,
                                                       const Clock& clock);
  // The store of a closedloop data dir: <data_dir>/tracking.db, artifacts under
  // <data_dir>/artifacts, named mlflow-artifacts:/<experiment> (served by
  // ArtifactApi; the server, `train` and the demo bootstrap all use this).
  static StatusOr<std::unique_ptr<TrackingStore>> OpenInDataDir(const std::string& data_dir,
                                                                const Clock& clock);

  StatusOr<std::string> CreateExperiment(const std::string& name,
                                         const std::string& artifact_location,
                                         const KeyValues& tags);
  StatusOr<Experiment> GetExperiment(const std::string& experiment_id);
  StatusOr<Experiment> GetExperimentByName(const std::string& name);
  // `filter`: empty, "name = 'x'" or "name LIKE 'x%'" (MLflow's basic forms).
  StatusOr<std::vector<Experiment>> SearchExperiments(const std::string& filter,
                                                      int64_t max_results);

  StatusOr<RunInfo> CreateRun(const std::string& experiment_id, const std::string& run_name,
                              const std::string& user_id, std::optional<int64_t> start_time,
                              const KeyValues& tags);
  StatusOr<RunInfo> UpdateRun(const std::string& run_id, const std::optional<std::string>& status,
                              std::optional<int64_t> end_time,
                              const std::optional<std::string>& run_name);
  StatusOr<Run> GetRun(const std::string& run_id);
  Status DeleteRun(const std::string& run_id);
  Status LogBatch(const std::string& run_id, const std::vector<Metric>& metrics,
                  const KeyValues& params, const KeyValues& tags);
  StatusOr<std::vector<Metric>> MetricHistory(const std::string& run_id, const std::string& key);
  // `filter`: clauses joined by AND: metrics.k <op> number, params.k = 'v', tags.k != 'v',
  // attributes.status = 'FINISHED', attributes.run_name LIKE 'x%'. `order_by`: entries
  // like "metrics.acc DESC", "attributes.start_time" (default: start_time DESC).
  StatusOr<std::vector<Run>> SearchRuns(const std::vector<std::string>& experiment_ids,
                                        const std::string& filter,
                                        const std::vector<std::string>& order_by,
                                        int64_t max_results);

 private:
  TrackingStore(std::unique_ptr<SqliteDb> db, std::string artifact_root, const Clock& clock);
  StatusOr<RunInfo> LoadRunInfo(const std::string& run_id);  // requires mu_
  StatusOr<Run> LoadRun(const std::string& run_id);          // requires mu_
  Status RequireActiveRun(const std::string& run_id);        // requires mu_

  std::mutex mu_;  // guards db_
  std::unique_ptr<SqliteDb> db_;
  const std::string artifact_root_;
  const Clock& clock_;
};

}  // namespace closedloop
