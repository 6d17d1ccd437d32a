// ArtifactStore: the files behind MLflow's artifact API (mlflow-artifacts:/...),
// kept under one root directory (<data_dir>/artifacts). Paths are relative and
// '/'-separated; every path is checked before any file is touched: no absolute
// paths, no "." or ".." segments, no empty segments, no backslashes or NUL bytes,
// and no symbolic link inside the root may lead out of it (InvalidArgument).
//
// Put writes to a temporary file in the same directory, fsyncs it and renames it
// into place, so a reader sees the old file or the new one, never a part; a
// crash leaves at most a ".upload-*" temporary, which List does not show.
// Thread safety: every method is safe from any thread (the filesystem is the only
// state; concurrent Puts of one path: the last rename wins).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace closedloop {

// "mlflow-artifacts:/<path>" names <root>/<path>.
inline constexpr std::string_view kArtifactScheme = "mlflow-artifacts:";

// The store path named by "mlflow-artifacts:/<path>" (leading slashes dropped, not yet
// checked: Resolve does that); nullopt for a URI of another scheme.
std::optional<std::string_view> ArtifactSchemePath(std::string_view uri);

struct ArtifactEntry {
  std::string name;  // the file or directory's own name (no directory part)
  bool is_dir = false;
  int64_t file_size = 0;  // bytes; 0 for directories
};

class ArtifactStore {
 public:
  explicit ArtifactStore(std::string root);
  const std::string& root() const { return root_; }

  // The absolute file path of a checked relative path ("" = the root).
  StatusOr<std::string> Resolve(std::string_view path) const;
  // Creates missing directories; replaces an existing file. InvalidArgument when
  // the path is empty or names an existing directory.
  Status Put(std::string_view path, std::string_view bytes);
  // NotFound when absent; InvalidArgument for a directory.
  StatusOr<std::string> Read(std::string_view path) const;
  // The entries of a directory, sorted by name; an absent directory lists empty
  // (as MLflow does); InvalidArgument when the path is a file.
  StatusOr<std::vector<ArtifactEntry>> List(std::string_view dir) const;
  // A file, or a directory with everything under it. NotFound when absent;
  // InvalidArgument for the root itself.
  Status Delete(std::string_view path);

 private:
  std::string root_;
};

}  // namespace closedloop
