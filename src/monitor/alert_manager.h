// AlertManager: the alerts of one closedloop process (SLO burn rates, drift),
// kept in SQLite (<data_dir>/monitor.db) so their state survives a restart, and
// delivered to the log, to GET /v1/alerts and to webhooks.
//
// An alert is identified by its `key` (e.g. "slo:availability:page_fast"). Raise()
// on a key that is not firing opens a new alert (one row, state "firing") and
// queues one webhook delivery per configured URL; Raise() on a firing key only
// refreshes its details. Resolve() closes it (state "resolved") and queues the
// "resolved" deliveries. Deliveries are rows too: a webhook that is down is
// retried with exponential backoff (retry_initial_ms doubling up to retry_max_ms)
// until it answers 2xx, across restarts; nothing is dropped.
//
// Webhook body (the Alertmanager webhook shape, so existing receivers work):
//   {"version":"4","status":"firing","receiver":"closedloop","groupKey":KEY,
//    "alerts":[{"status","labels":{"alertname",...},"annotations":{"summary"},
//               "startsAt","endsAt","fingerprint":ID}],
//    "closedloop":{"id","key","details":{...}}}
//
// Thread safety: every method from any thread (one mutex guards the database
// connection and the firing set; webhook calls are made without holding it).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/config.h"
#include "core/status.h"
#include "core/ulid.h"
#include "monitor/metrics.h"
#include "store/sqlite_db.h"

namespace closedloop {

struct AlertEvent {
  std::string key;
  std::string name;      // alertname, e.g. "SloBurnRate", "DriftCritical"
  std::string severity;  // page | ticket | warning
  std::string summary;   // one line for people
  std::vector<std::pair<std::string, std::string>> labels;  // besides alertname and severity
  std::string details_json = "{}";                          // the evidence
};

struct AlertRow {
  std::string id, key, name, severity, state, summary, labels_json, details_json;
  int64_t started_ms = 0, updated_ms = 0, resolved_ms = 0;  // resolved_ms 0: still firing
  int64_t deliveries_pending = 0;
};

class AlertManager {
 public:
  // `clock` and `metrics` must outlive the manager.
  static StatusOr<std::unique_ptr<AlertManager>> Open(const std::string& path,
                                                      const AlertsConfig& config,
                                                      const Clock& clock, MetricsRegistry& metrics);
  ~AlertManager();

  Status Raise(const AlertEvent& event);
  Status Resolve(const std::string& key);
  bool IsFiring(const std::string& key) const;
  // Newest first; `state` "firing", "resolved" or "" (all).
  StatusOr<std::vector<AlertRow>> List(const std::string& state, int64_t limit) const;

  // Starts the delivery thread (no-op without webhooks); Stop() joins it.
  void Start();
  void Stop();
  // Attempts every delivery that is due now; returns how many succeeded.
  int DeliverDue();

 private:
  AlertManager(std::unique_ptr<SqliteDb> db, const AlertsConfig& config, const Clock& clock,
               MetricsRegistry& metrics);
  Status Enqueue(const AlertRow& alert, const std::string& status);  // mu_ held
  StatusOr<AlertRow> Load(const std::string& id);                    // mu_ held
  void Run();

  const AlertsConfig config_;
  const Clock& clock_;
  UlidGenerator ids_;
  mutable std::mutex mu_;
  std::unique_ptr<SqliteDb> db_;               // guarded by mu_
  std::map<std::string, std::string> firing_;  // key -> alert id; guarded by mu_
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
  Family<Counter>* deliveries_;
  Gauge* firing_gauge_;
};

}  // namespace closedloop
