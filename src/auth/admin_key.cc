#include "auth/admin_key.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>

#include "auth/api_key_store.h"

namespace closedloop {

StatusOr<AdminKey> EnsureAdminKey(const std::string& data_dir, const Clock& clock) {
  AdminKey out;
  out.path = data_dir + "/admin.key";
  std::ifstream existing(out.path);
  if (existing && std::getline(existing, out.key) && out.key.starts_with("clk_")) return out;
  ASSIGN_OR_RETURN(auto store, ApiKeyStore::Open(data_dir + "/auth.db", clock));
  ASSIGN_OR_RETURN(out.key, store->Create("admin", {"admin"}));
  ::unlink(out.path.c_str());  // an unreadable leftover: replaced
  const int fd = ::open(out.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return Unavailable("cannot write the admin key to '" + out.path + "': " + std::strerror(errno));
  }
  const std::string line = out.key + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok) return Unavailable("cannot write the admin key to '" + out.path + "'");
  out.created = true;
  return out;
}

}  // namespace closedloop
