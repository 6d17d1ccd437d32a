// ModelRepository: the models under a root directory, laid out as
//
//   <root>/<name>/<version>/config.toml + model.bin | model.ftz
//   <root>/<name>/aliases.toml          optional: champion = 3
//
// Versions are positive integers. Every version is loaded independently: one
// that fails is recorded with its error (and shown by List()) while the others
// serve. A request without a version gets the highest loaded version.
//
// Thread safety: Resolve() and List() are lock-free reads of an immutable
// snapshot (std::atomic<std::shared_ptr>); LoadAll() builds a new snapshot and
// swaps it in. A request holds shared_ptr<const ModelVersion>, so a version
// replaced mid-request is freed only after its last request finishes.
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "serving/backend.h"
#include "serving/model_config.h"

namespace closedloop {

struct ModelVersion {
  std::string name;
  int64_t version = 0;
  std::string version_label;  // version as text, for responses and metric labels
  std::string path;           // the model file
  ModelConfig config;
  std::unique_ptr<Backend> backend;
};

struct ModelState {
  std::string name;
  int64_t version = 0;
  bool ready = false;
  std::string error;  // why it is not ready
};

class ModelRepository {
 public:
  explicit ModelRepository(std::string root);

  // (Re)scans the root and loads everything. Returns every version's state; a
  // missing root directory is an error.
  StatusOr<std::vector<ModelState>> LoadAll();

  // `model` is "name" or "name@alias"; `version` is empty or a version number.
  // NotFound names the model, alias or version that does not exist.
  StatusOr<std::shared_ptr<const ModelVersion>> Resolve(std::string_view model,
                                                        std::string_view version) const;

  std::vector<ModelState> List() const;
  // Loaded versions of a model, ascending; NotFound if the model is unknown.
  StatusOr<std::vector<int64_t>> ReadyVersions(std::string_view name) const;
  size_t ReadyCount() const;
  const std::string& root() const { return root_; }

 private:
  struct Model {
    std::map<int64_t, std::shared_ptr<const ModelVersion>> versions;  // ready ones
    std::map<std::string, int64_t, std::less<>> aliases;
  };
  struct Snapshot {
    std::map<std::string, Model, std::less<>> models;
    std::vector<ModelState> states;
    size_t ready = 0;
  };
  std::string root_;
  std::atomic<std::shared_ptr<const Snapshot>> snapshot_;
};

// Loads one version directory (config + backend of the configured flavor).
StatusOr<std::unique_ptr<ModelVersion>> LoadModelVersion(const std::string& dir, std::string name,
                                                         int64_t version);

}  // namespace closedloop
