#include "tracking/artifact_store.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

namespace closedloop {

std::optional<std::string_view> ArtifactSchemePath(std::string_view uri) {
  if (!uri.starts_with(kArtifactScheme)) return std::nullopt;
  uri.remove_prefix(kArtifactScheme.size());
  while (!uri.empty() && uri.front() == '/') uri.remove_prefix(1);
  return uri;
}
namespace fs = std::filesystem;

namespace {

Status CheckRelative(std::string_view path) {
  if (!path.empty() && path.front() == '/') {
    return InvalidArgument("artifact path '" + std::string(path) + "' must be relative");
  }
  if (path.find('\0') != std::string_view::npos || path.find('\\') != std::string_view::npos) {
    return InvalidArgument("artifact path must not contain NUL bytes or backslashes");
  }
  size_t start = 0;
  while (start <= path.size() && !path.empty()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    std::string_view seg = path.substr(start, end - start);
    if (seg.empty() && end != path.size()) {
      return InvalidArgument("artifact path '" + std::string(path) + "' has an empty segment");
    }
    if (seg == "." || seg == "..") {
      return InvalidArgument("artifact path '" + std::string(path) +
                             "' must not contain '.' or '..' segments");
    }
    if (seg.rfind(".upload-", 0) == 0) {
      return InvalidArgument("artifact names starting with '.upload-' are reserved");
    }
    if (end == path.size()) break;
    start = end + 1;
  }
  return OkStatus();
}

std::string Strip(std::string_view path) {
  while (!path.empty() && path.back() == '/') path.remove_suffix(1);
  return std::string(path);
}

}  // namespace

ArtifactStore::ArtifactStore(std::string root) : root_(std::move(root)) {}

StatusOr<std::string> ArtifactStore::Resolve(std::string_view path) const {
  RETURN_IF_ERROR(CheckRelative(path));
  const std::string rel = Strip(path);
  std::error_code ec;
  fs::create_directories(root_, ec);
  const fs::path root = fs::weakly_canonical(root_, ec);
  if (ec) return Internal("artifact root '" + root_ + "': " + ec.message());
  fs::path full = rel.empty() ? root : root / rel;
  // Symbolic links inside the root must not lead out of it.
  const fs::path real = fs::weakly_canonical(full, ec);
  if (ec) return Internal("artifact path '" + rel + "': " + ec.message());
  auto [r, p] = std::mismatch(root.begin(), root.end(), real.begin(), real.end());
  if (r != root.end()) {
    return InvalidArgument("artifact path '" + rel + "' leads outside the artifact root");
  }
  return full.string();
}

Status ArtifactStore::Put(std::string_view path, std::string_view bytes) {
  if (Strip(path).empty()) return InvalidArgument("an upload needs a file path");
  ASSIGN_OR_RETURN(std::string file, Resolve(path));
  std::error_code ec;
  if (fs::is_directory(file, ec)) {
    return InvalidArgument("artifact path '" + Strip(path) + "' is a directory");
  }
  const fs::path target(file);
  fs::create_directories(target.parent_path(), ec);
  if (ec) return Internal("cannot create '" + target.parent_path().string() + "': " + ec.message());
  static std::atomic<uint64_t> counter{0};
  const fs::path tmp = target.parent_path() / (".upload-" + std::to_string(::getpid()) + "-" +
                                               std::to_string(counter.fetch_add(1)));
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return Internal("cannot write '" + tmp.string() + "': " + std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      const int err = errno;
      ::close(fd);
      fs::remove(tmp, ec);
      return Internal("cannot write '" + tmp.string() + "': " + std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    fs::remove(tmp, ec);
    return Internal("cannot sync '" + tmp.string() + "'");
  }
  fs::rename(tmp, target, ec);
  if (ec) {
    std::error_code ignored;
    fs::remove(tmp, ignored);
    return Internal("cannot store '" + target.string() + "': " + ec.message());
  }
  return OkStatus();
}

StatusOr<std::string> ArtifactStore::Read(std::string_view path) const {
  ASSIGN_OR_RETURN(std::string file, Resolve(path));
  std::error_code ec;
  if (!fs::exists(file, ec)) return NotFound("artifact '" + Strip(path) + "' does not exist");
  if (fs::is_directory(file, ec)) {
    return InvalidArgument("artifact path '" + Strip(path) + "' is a directory (list it)");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) return Internal("cannot read '" + file + "'");
  std::ostringstream out;
  out << in.rdbuf();
  return std::move(out).str();
}

StatusOr<std::vector<ArtifactEntry>> ArtifactStore::List(std::string_view dir) const {
  ASSIGN_OR_RETURN(std::string full, Resolve(dir));
  std::vector<ArtifactEntry> out;
  std::error_code ec;
  if (!fs::exists(full, ec)) return out;
  if (!fs::is_directory(full, ec)) {
    return InvalidArgument("artifact path '" + Strip(dir) + "' is a file, not a directory");
  }
  for (const auto& e : fs::directory_iterator(full, ec)) {
    std::string name = e.path().filename().string();
    if (name.rfind(".upload-", 0) == 0) continue;
    ArtifactEntry a;
    a.name = std::move(name);
    a.is_dir = e.is_directory(ec);
    if (!a.is_dir) a.file_size = static_cast<int64_t>(e.file_size(ec));
    out.push_back(std::move(a));
  }
  std::sort(out.begin(), out.end(),
            [](const ArtifactEntry& a, const ArtifactEntry& b) { return a.name < b.name; });
  return out;
}

Status ArtifactStore::Delete(std::string_view path) {
  if (Strip(path).empty()) return InvalidArgument("the artifact root cannot be deleted");
  ASSIGN_OR_RETURN(std::string full, Resolve(path));
  std::error_code ec;
  if (!fs::exists(fs::symlink_status(full, ec))) {
    return NotFound("artifact '" + Strip(path) + "' does not exist");
  }
  fs::remove_all(full, ec);
  if (ec) return Internal("cannot delete '" + full + "': " + ec.message());
  return OkStatus();
}

}  // namespace closedloop
