// The routes every server process has, whatever its role: GET /v2/health/live
// (200 while the process runs), GET /v2/health/ready (200, or 503 with
// {"ready": false, "reason": ...} — the status code is the answer, as the Open
// Inference Protocol says) and GET /metrics (Prometheus text).
#pragma once

#include <functional>
#include <string>

#include "http/router.h"
#include "monitor/metrics.h"

namespace closedloop {

// `not_ready_reason` returns "" when ready. Both references must outlive the router's use.
void RegisterSystemRoutes(Router& router, MetricsRegistry& metrics,
                          std::function<std::string()> not_ready_reason);

}  // namespace closedloop
