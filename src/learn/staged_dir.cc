#include "learn/staged_dir.h"

#include <unistd.h>

namespace closedloop {
namespace fs = std::filesystem;

StagedDir::StagedDir(fs::path final_dir, fs::path staging)
    : final_(std::move(final_dir)), staging_(std::move(staging)) {}

StagedDir::StagedDir(StagedDir&& other) noexcept
    : final_(std::move(other.final_)), staging_(std::move(other.staging_)) {
  other.staging_.clear();
}

StagedDir::~StagedDir() {
  std::error_code ec;
  if (!staging_.empty()) fs::remove_all(staging_, ec);
}

StatusOr<StagedDir> StagedDir::Create(const std::string& final_dir, bool overwrite) {
  if (final_dir.empty()) return InvalidArgument("no output directory");
  fs::path final_path = fs::path(final_dir).lexically_normal();
  if (final_path.filename().empty()) final_path = final_path.parent_path();
  std::error_code ec;
  if (fs::exists(final_path, ec) && !overwrite) {
    return AlreadyExists("'" + final_path.string() +
                         "' already exists (pass --overwrite to replace it)");
  }
  fs::path staging = final_path.parent_path() / ("." + final_path.filename().string() +
                                                 ".training-" + std::to_string(getpid()));
  fs::remove_all(staging, ec);
  fs::create_directories(staging, ec);
  if (ec) return Internal("cannot create '" + staging.string() + "': " + ec.message());
  return StagedDir(final_path, staging);
}

Status StagedDir::Publish() {
  std::error_code ec;
  if (fs::exists(final_, ec)) {
    fs::path old = final_.parent_path() / ("." + final_.filename().string() + ".replaced");
    fs::remove_all(old, ec);
    fs::rename(final_, old, ec);
    if (ec) return Internal("cannot replace '" + final_.string() + "': " + ec.message());
    fs::remove_all(old, ec);
  }
  fs::rename(staging_, final_, ec);
  if (ec) return Internal("cannot move the model into '" + final_.string() + "': " + ec.message());
  staging_.clear();
  return OkStatus();
}

}  // namespace closedloop
