// Principal: who a request acts for, as established by authentication, with the
// scopes it was granted. A value type.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

namespace closedloop {

struct Principal {
  std::string subject;  // JWT `sub`, or the API key's name
  std::string kind;     // "jwt" | "api_key"
  std::string key_id;   // the API key's id (empty for JWTs)
  std::vector<std::string> scopes;

  bool HasScope(const std::string& scope) const {
    return std::find(scopes.begin(), scopes.end(), scope) != scopes.end() ||
           std::find(scopes.begin(), scopes.end(), "admin") != scopes.end();
  }
};

// The scopes closedloop knows: predict, feedback, label, metrics, admin (admin implies all).
const std::vector<std::string>& KnownScopes();

}  // namespace closedloop
