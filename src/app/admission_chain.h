// AdmissionChain: the checks in front of every route of a serving process, in
// this order — failed-auth throttling (an address that sent too many invalid
// credentials is refused before its next one is even looked at), authentication
// and scopes ([auth]), then the rate limits per principal or address
// ([rate_limit]). Each part exists only when configured.
//
// Ownership: the chain owns the checks; it must outlive the server they are
// installed on.
#pragma once

#include <memory>

#include "auth/auth_admission.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/status.h"
#include "gateway/rate_limit_admission.h"
#include "http/server.h"
#include "monitor/metrics.h"

namespace closedloop {

struct AdmissionChain {
  AuthStack auth;
  std::unique_ptr<RateLimitAdmission> rate_limits;
};

// Builds the chain from `config` and adds it to `server` (before Start).
StatusOr<std::unique_ptr<AdmissionChain>> InstallAdmissions(const Config& config,
                                                            const Clock& clock,
                                                            MetricsRegistry& metrics,
                                                            HttpServer& server);

}  // namespace closedloop
