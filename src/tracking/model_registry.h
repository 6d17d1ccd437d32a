// ModelRegistry: MLflow's model registry over tracking.db — registered models,
// their versions (with the legacy stages None/Staging/Production/Archived),
// tags and aliases — tied to the served model repository: version N of model M
// lives in <repository>/M/N, and the aliases are mirrored into
// <repository>/M/aliases.toml, which is what the server resolves `M@alias` with.
//
// A version's source is a local directory (or file://), runs:/<run>/<path> (the
// run's model.path, else <path> in its uploaded artifacts) or
// mlflow-artifacts:/<path> (uploaded through the artifact API).
// Creating a version copies (or moves) the source version directory into the
// repository under a temporary name, writes its model card (MODEL_CARD.md),
// records the model file's SHA-256 and size, its flavor, its metrics
// (metrics.json) and run, then renames it into place and commits the row; on any
// failure nothing is left behind (no directory, no row).
//
// Errors: NotFound (unknown model/version/alias/run), AlreadyExists (duplicate
// name), InvalidArgument (bad name, alias, stage, source). Thread safety: every
// method is safe from any thread (one connection behind a mutex; control plane).
// The change listener is called after a change that affects serving (new
// version, alias moved/deleted, version or model deleted), outside the lock.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/clock.h"
#include "core/status.h"
#include "store/sqlite_db.h"
#include "tracking/artifact_store.h"
#include "tracking/registry_rules.h"
#include "tracking/tracking_store.h"

namespace closedloop {

struct ModelVersionInfo {
  std::string name;
  int64_t version = 0;
  int64_t creation_time = 0;  // ms since the epoch
  int64_t last_updated_time = 0;
  std::string description;
  std::string user_id;
  std::string current_stage;  // None | Staging | Production | Archived
  std::string source;         // where it was registered from
  std::string storage_path;   // <repository>/<name>/<version>
  std::string run_id;
  std::string status;  // READY
  std::string flavor;
  std::string model_sha256;
  int64_t model_size = 0;    // bytes of the model file
  std::string metrics_json;  // the version's metrics.json ("{}" when absent)
  std::string model_card;    // markdown
  KeyValues tags;
  std::vector<std::string> aliases;
};

struct RegisteredModel {
  std::string name;
  int64_t creation_time = 0;
  int64_t last_updated_time = 0;
  std::string description;
  KeyValues tags;
  std::vector<std::pair<std::string, int64_t>> aliases;  // alias -> version
  std::vector<ModelVersionInfo> latest_versions;         // newest per stage
};

struct NewModelVersion {
  std::string name;
  std::string source;           // a version directory: config.toml + the model file
  std::string recorded_source;  // recorded instead of `source` when set (e.g. runs:/ID/model)
  std::string run_id;           // optional; must exist when given
  std::string description;
  std::string user_id;
  KeyValues tags;
  bool move_source = false;              // rename instead of copy (a fresh training)
  bool create_model_if_missing = false;  // else NotFound for an unknown name
};

// One page of a model version search (MLflow's search-model-versions).
struct VersionSearch {
  // Clauses joined by AND: name, run_id, source (= != LIKE ILIKE), tags.<key>
  // (= != LIKE ILIKE) and version_number (= != < <= > >=).
  std::string filter;
  int64_t max_results = 10000;  // page size, 1..200000
  // Each "<key> [ASC|DESC]", key one of name, version_number, creation_timestamp,
  // last_updated_timestamp; then name ASC, version_number DESC.
  std::vector<std::string> order_by;
  std::string page_token;  // a previous page's next_page_token; empty: the first page
};
struct VersionPage {
  std::vector<ModelVersionInfo> versions;
  std::string next_page_token;  // empty on the last page
};

class ModelRegistry {
 public:
  static StatusOr<std::unique_ptr<ModelRegistry>> Open(const std::string& db_path,
                                                       std::string repository, const Clock& clock);
  // <data_dir>/tracking.db, the same file as TrackingStore::OpenInDataDir.
  static StatusOr<std::unique_ptr<ModelRegistry>> OpenInDataDir(const std::string& data_dir,
                                                                std::string repository,
                                                                const Clock& clock);

  void SetChangeListener(std::function<void(const std::string& model)> listener);
  const std::string& repository() const { return repository_; }

  StatusOr<RegisteredModel> CreateRegisteredModel(const std::string& name,
                                                  const std::string& description,
                                                  const KeyValues& tags);
  StatusOr<RegisteredModel> GetRegisteredModel(const std::string& name);
  // `filter`: empty, name = 'x', name LIKE 'x%' (also ILIKE, !=).
  StatusOr<std::vector<RegisteredModel>> SearchRegisteredModels(const std::string& filter,
                                                                int64_t max_results);
  StatusOr<RegisteredModel> UpdateRegisteredModel(const std::string& name,
                                                  const std::string& description);
  // Deletes the entries; the version directories stay (and keep serving) until removed.
  Status DeleteRegisteredModel(const std::string& name);
  Status SetRegisteredModelTag(const std::string& name, const std::string& key,
                               const std::string& value);
  // NotFound when the model or the tag does not exist.
  Status DeleteRegisteredModelTag(const std::string& name, const std::string& key);
  // Keys: 1-250 characters, not starting with "closedloop." (those are computed).
  Status SetModelVersionTag(const std::string& name, int64_t version, const std::string& key,
                            const std::string& value);
  Status DeleteModelVersionTag(const std::string& name, int64_t version, const std::string& key);

  StatusOr<ModelVersionInfo> CreateModelVersion(const NewModelVersion& v);
  StatusOr<ModelVersionInfo> GetModelVersion(const std::string& name, int64_t version);
  // `filter`: clauses joined by AND on name, run_id or source (= != LIKE ILIKE).
  StatusOr<std::vector<ModelVersionInfo>> SearchModelVersions(const std::string& filter,
                                                              int64_t max_results);
  // Filtered, ordered, paged; InvalidArgument for a bad filter, order_by, page size
  // or page token.
  StatusOr<VersionPage> SearchModelVersions(const VersionSearch& search);
  StatusOr<ModelVersionInfo> UpdateModelVersion(const std::string& name, int64_t version,
                                                const std::string& description);
  Status DeleteModelVersion(const std::string& name, int64_t version);
  // `stage` is matched case-insensitively; with `archive_existing`, the other
  // versions in that stage move to Archived.
  StatusOr<ModelVersionInfo> TransitionStage(const std::string& name, int64_t version,
                                             const std::string& stage, bool archive_existing);

  // Alias names: 1-255 of [A-Za-z0-9_-], not "latest", not a version like "v3".
  Status SetAlias(const std::string& name, const std::string& alias, int64_t version);
  Status DeleteAlias(const std::string& name, const std::string& alias);
  StatusOr<ModelVersionInfo> GetVersionByAlias(const std::string& name, const std::string& alias);

 private:
  ModelRegistry(std::unique_ptr<SqliteDb> db, std::string repository, const Clock& clock);
  // All require mu_.
  Status RequireModel(const std::string& name);
  Status InsertModel(const std::string& name, const std::string& description);
  StatusOr<RegisteredModel> LoadModel(const std::string& name);
  StatusOr<ModelVersionInfo> LoadVersion(const std::string& name, int64_t version);
  StatusOr<ModelVersionInfo> ReadVersionRow(SqliteStatement& stmt);
  Status WriteAliasesFile(const std::string& name);
  void Notify(const std::string& name);

  std::mutex mu_;  // guards db_
  std::unique_ptr<SqliteDb> db_;
  std::unique_ptr<TrackingStore> runs_;       // run lookups (its own connection)
  std::unique_ptr<ArtifactStore> artifacts_;  // <data_dir>/artifacts: mlflow-artifacts:/ sources
  const std::string repository_;
  const Clock& clock_;
  std::function<void(const std::string&)> listener_;  // set before serving starts
};

}  // namespace closedloop
