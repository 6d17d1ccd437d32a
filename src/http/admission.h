// Admission: a check that runs after routing and before the handler (rate
// limits; authentication later). It either lets the request through, possibly
// adding response headers to `ctx`, or answers it itself (fills ctx with the
// status and body, e.g. 429) and returns false.
//
// Thread safety: Admit is called from every io thread at once; implementations
// must not take a lock shared by all requests.
#pragma once

#include <string_view>

#include "http/request_context.h"

namespace closedloop {

class Admission {
 public:
  virtual ~Admission() = default;
  virtual bool Admit(RequestContext& ctx, std::string_view route, std::string_view client_ip) = 0;
  // True for checks that also apply to every message of a WebSocket connection
  // (rate limits), not only to its upgrade request (authentication).
  virtual bool PerMessage() const { return false; }
};

}  // namespace closedloop
