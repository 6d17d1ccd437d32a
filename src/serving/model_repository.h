// ModelRepository: the models under a root directory, laid out as
//
//   <root>/<name>/<version>/config.toml + model.bin | model.ftz
//   <root>/<name>/aliases.toml     optional: champion = 3
//   <root>/<name>/model.toml       optional: version_policy = "all" | "latest" | "specific",
//                                  latest = 1 (how many, for "latest"), versions = [1, 3]
//
// Versions are positive integers; dot-directories are ignored (staging areas). A
// request without a version gets the highest served version.
//
// Loading is per model and incremental: a version whose files did not change is
// kept as it is, a changed or new one is loaded beside the old, and only a
// successful load replaces it: when a new file is corrupt, the version already in
// memory keeps serving and the error is reported. Every version failure is
// recorded (List(), LoadModel's result) and never takes other versions down.
//
// Thread safety: Resolve(), List(), ReadyVersions(), ReadyCount() are lock-free
// reads of an immutable snapshot (std::atomic<std::shared_ptr>). LoadAll,
// LoadModel, UnloadModel and PollOnce serialize on an internal mutex and publish
// a new snapshot. A request holds shared_ptr<const ModelVersion>, so a version
// replaced or unloaded mid-request is freed only after its last request finishes.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "monitor/metrics.h"
#include "serving/backend.h"
#include "serving/batcher.h"
#include "serving/inference_stats.h"
#include "serving/model_config.h"

namespace closedloop {

struct ModelVersion {
  ModelVersion() = default;
  ModelVersion(const ModelVersion&) = delete;
  ModelVersion& operator=(const ModelVersion&) = delete;
  ~ModelVersion() {
    if (batcher) batcher->Stop();  // before the backend it calls is freed
  }

  std::string name;
  int64_t version = 0;
  std::string version_label;  // version as text, for responses and metric labels
  std::string path;           // the model file
  std::string fingerprint;    // sizes and mtimes of the files it was loaded from
  ModelConfig config;
  std::unique_ptr<Backend> backend;
  // Triton-style statistics of this loaded version (reset when it is reloaded);
  // declared before the batcher, which records into it, so it outlives it.
  std::unique_ptr<InferenceStats> stats = std::make_unique<InferenceStats>();
  std::shared_ptr<Batcher> batcher;  // set when config.batching.max_batch_size > 1
};

// Which versions of a model to serve (Triton's version_policy, from model.toml).
struct VersionPolicy {
  enum Kind { kAll, kLatest, kSpecific } kind = kAll;
  int64_t latest = 1;
  std::set<int64_t> specific;
};

struct ModelState {
  std::string name;
  int64_t version = 0;
  bool ready = false;
  std::string error;  // why it is not ready (or why a newer file was not taken)
};

class ModelRepository {
 public:
  // `versions_gauge` (optional, labels {state}) is kept at the ready/failed counts;
  // `batch_metrics` (optional) is given to the batchers of versions that batch.
  explicit ModelRepository(std::string root, Family<Gauge>* versions_gauge = nullptr,
                           const BatchMetricFamilies* batch_metrics = nullptr);

  // Loads every model under the root and drops models whose directory is gone.
  // A missing root directory is an error.
  StatusOr<std::vector<ModelState>> LoadAll();
  // (Re)loads one model by its directory name. NotFound if the directory does not
  // exist; FailedPrecondition naming the versions that failed (the others serve).
  StatusOr<std::vector<ModelState>> LoadModel(std::string_view name);
  // Stops serving a model; in-flight requests finish on the versions they hold.
  Status UnloadModel(std::string_view name);
  // Reloads the models whose files changed since the last load, loads new model
  // directories, unloads removed ones. Returns the names that changed.
  std::vector<std::string> PollOnce();
  // Finishes the queued work of every served version's batcher and stops them (at
  // shutdown, before the HTTP server that their completions post to is destroyed).
  void StopBatchers();

  // `model` is "name" or "name@alias"; `version` is empty or a version number.
  // NotFound when no such model or version exists; Unavailable when it exists but
  // does not serve (its load failed, or the model was unloaded).
  StatusOr<std::shared_ptr<const ModelVersion>> Resolve(std::string_view model,
                                                        std::string_view version) const;
  std::vector<ModelState> List() const;
  // List() plus every version directory of the models under the root that are not
  // loaded (error "unloaded"), as Triton's repository index shows them.
  std::vector<ModelState> Index() const;
  // The version policy a loaded model was built with; NotFound if not loaded.
  StatusOr<VersionPolicy> Policy(std::string_view name) const;
  // Served versions of a model, ascending; NotFound if the model is unknown.
  StatusOr<std::vector<int64_t>> ReadyVersions(std::string_view name) const;
  size_t ReadyCount() const;
  const std::string& root() const { return root_; }

 private:
  struct Model {
    std::map<int64_t, std::shared_ptr<const ModelVersion>> versions;  // served ones
    std::map<std::string, int64_t, std::less<>> aliases;
    std::vector<ModelState> states;
    VersionPolicy policy;
    std::string fingerprint;  // of the whole model directory, for PollOnce
  };
  struct Snapshot {
    std::map<std::string, Model, std::less<>> models;
  };
  // Builds the new state of one model from disk, reusing unchanged versions of `old`.
  Model BuildModel(const std::string& name, const Model* old) const;
  void Publish(std::shared_ptr<Snapshot> snap);

  std::string root_;
  Family<Gauge>* versions_gauge_;
  const BatchMetricFamilies* batch_metrics_;
  std::mutex write_mu_;  // serializes loads/unloads/polls; never taken by readers
  std::atomic<std::shared_ptr<const Snapshot>> snapshot_;
};

// Loads one version directory (config + backend of the configured flavor).
StatusOr<std::unique_ptr<ModelVersion>> LoadModelVersion(
    const std::string& dir, std::string name, int64_t version,
    const BatchMetricFamilies* batch_metrics = nullptr);
// Sizes and mtimes of the files in a version directory.
std::string VersionFingerprint(const std::string& dir);

}  // namespace closedloop
