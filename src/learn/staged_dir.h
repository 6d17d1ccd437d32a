// A model version directory written under a temporary name beside its final
// place (".<name>.training-<pid>") and renamed into place by Publish(), so a
// failed or interrupted training never leaves a partial version where the server
// or the registry would see it. Destroying an unpublished StagedDir removes it.
// Not thread-safe; owns the temporary directory.
#pragma once

#include <filesystem>
#include <string>

#include "core/status.h"

namespace closedloop {

class StagedDir {
 public:
  // AlreadyExists when `final_dir` exists and !overwrite.
  static StatusOr<StagedDir> Create(const std::string& final_dir, bool overwrite);
  StagedDir(StagedDir&& other) noexcept;
  StagedDir& operator=(StagedDir&&) = delete;
  StagedDir(const StagedDir&) = delete;
  ~StagedDir();

  const std::filesystem::path& path() const { return staging_; }
  const std::filesystem::path& final_path() const { return final_; }
  // Replaces any existing final directory with the staged one.
  Status Publish();

 private:
  StagedDir(std::filesystem::path final_dir, std::filesystem::path staging);
  std::filesystem::path final_;
  std::filesystem::path staging_;  // empty once published or moved from
};

}  // namespace closedloop
