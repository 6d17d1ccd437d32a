// SloApi: GET /v1/slo (every SLO: SLI, error budget, burn rates per window, the
// burn-rate rules and whether they fire; sampling now) and GET /v1/alerts
// (?state=firing|resolved, ?limit=N; newest first, from monitor.db) and
// GET /v1/metrics/history?minutes=N (the request rate, error rate and latency
// points of the last N minutes, 1..10080, default 60; metrics_history.h).
//
// Thread safety: handlers run on io threads; SloMonitor and AlertManager are
// thread-safe. Both outlive the API.
#pragma once

#include "http/router.h"
#include "monitor/alert_manager.h"
#include "monitor/metrics_history.h"
#include "monitor/slo_monitor.h"

namespace closedloop {

class SloApi {
 public:
  // `history` may be null (no history route data: an empty list).
  SloApi(SloMonitor* slo, AlertManager& alerts, const MetricsHistory* history = nullptr)
      : slo_(slo), alerts_(alerts), history_(history) {}
  void Register(Router& router);

 private:
  void Slo(RequestContext& ctx);
  void Alerts(RequestContext& ctx);
  void History(RequestContext& ctx);
  SloMonitor* slo_;  // null when no SLO is configured
  AlertManager& alerts_;
  const MetricsHistory* history_;
};

}  // namespace closedloop
