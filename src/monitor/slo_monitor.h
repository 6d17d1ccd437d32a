// SloMonitor: the availability and latency SLOs of [slo], computed in the binary
// from the request metrics that /metrics exposes (closedloop_requests_total and
// closedloop_request_duration_seconds, restricted to slo.routes):
//   availability  bad = answers with a 5xx status;
//   latency       bad = answers slower than latency_threshold_ms (a histogram bound).
// Every interval_ms (and on every Status() call) the counters are sampled, the
// increase is added to the current minute, the minute is saved in monitor.db (so
// the error budget survives a restart), and the workbook burn-rate rules are
// evaluated: a firing rule raises the alert "slo:<name>:<rule>" in the
// AlertManager, a rule that stops firing resolves it.
//
// Thread safety: every method from any thread (a mutex serializes sampling).
#pragma once

#include <condition_variable>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/config.h"
#include "core/status.h"
#include "monitor/alert_manager.h"
#include "monitor/metrics.h"
#include "monitor/slo.h"
#include "store/sqlite_db.h"

namespace closedloop {

class SloMonitor {
 public:
  // `db_path`: monitor.db, already migrated by AlertManager::Open. `metrics`,
  // `alerts` and `clock` must outlive the monitor. InvalidArgument when the latency
  // threshold is not a bound of the request-duration histogram.
  static StatusOr<std::unique_ptr<SloMonitor>> Create(const SloConfig& config,
                                                      const std::string& db_path,
                                                      const MetricsRegistry& metrics,
                                                      AlertManager& alerts, const Clock& clock);
  ~SloMonitor();

  // Samples, evaluates, raises/resolves alerts, and returns every SLO's status.
  std::vector<SloStatus> Status();
  void Start();
  void Stop();

 private:
  struct Objective {
    std::string name;
    double objective = 0;
    double threshold_ms = 0;
    size_t bucket = 0;  // latency: index of the threshold in the histogram bounds
    MinuteSeries series;
    EventCounts last;  // cumulative counts at the previous sample
  };
  SloMonitor(const SloConfig& config, std::unique_ptr<SqliteDb> db, const MetricsRegistry& metrics,
             AlertManager& alerts, const Clock& clock);
  EventCounts Read(const Objective& o) const;
  std::vector<SloStatus> TickLocked();
  void Run();

  const SloConfig config_;
  const std::set<std::string, std::less<>> routes_;  // config_.routes, for lookups
  const MetricsRegistry& metrics_;
  AlertManager& alerts_;
  const Clock& clock_;
  std::mutex mu_;
  std::unique_ptr<SqliteDb> db_;  // guarded by mu_
  std::vector<Objective> objectives_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace closedloop
