// SloApi: GET /v1/slo (every SLO: SLI, error budget, burn rates per window, the
// burn-rate rules and whether they fire; sampling now) and GET /v1/alerts
// (?state=firing|resolved, ?limit=N; newest first, from monitor.db).
//
// Thread safety: handlers run on io threads; SloMonitor and AlertManager are
// thread-safe. Both outlive the API.
#pragma once

#include "http/router.h"
#include "monitor/alert_manager.h"
#include "monitor/slo_monitor.h"

namespace closedloop {

class SloApi {
 public:
  SloApi(SloMonitor* slo, AlertManager& alerts) : slo_(slo), alerts_(alerts) {}
  void Register(Router& router);

 private:
  void Slo(RequestContext& ctx);
  void Alerts(RequestContext& ctx);
  SloMonitor* slo_;  // null when no SLO is configured
  AlertManager& alerts_;
};

}  // namespace closedloop
