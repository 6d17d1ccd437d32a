// The admin API key of a secure-by-default `closedloop up`: made on the first
// start with authentication on, stored like every key (a salted hash in auth.db)
// and handed to the operator once — printed, and written to <data_dir>/admin.key
// with mode 0600 (readable only by the owner). Later starts find the file and
// make nothing.
#pragma once

#include <string>

#include "core/clock.h"
#include "core/status.h"

namespace closedloop {

struct AdminKey {
  std::string path;  // <data_dir>/admin.key
  std::string key;   // clk_...
  bool created = false;
};

StatusOr<AdminKey> EnsureAdminKey(const std::string& data_dir, const Clock& clock);

}  // namespace closedloop
