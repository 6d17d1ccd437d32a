#include "monitor/alert_manager.h"

#include <algorithm>

#include "core/json_writer.h"
#include "core/logging.h"
#include "http/http_client.h"
#include "store/migrations.h"

namespace closedloop {

namespace {

const std::vector<Migration>& AlertMigrations() {
  static const std::vector<Migration> kMigrations = {
      {1, R"sql(
        CREATE TABLE alerts (
          id          TEXT PRIMARY KEY,
          key         TEXT NOT NULL,
          name        TEXT NOT NULL,
          severity    TEXT NOT NULL,
          state       TEXT NOT NULL,
          summary     TEXT NOT NULL,
          labels      TEXT NOT NULL,
          details     TEXT NOT NULL,
          started_ms  INTEGER NOT NULL,
          updated_ms  INTEGER NOT NULL,
          resolved_ms INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX alerts_by_state ON alerts(state, started_ms);
        CREATE TABLE alert_deliveries (
          seq             INTEGER PRIMARY KEY AUTOINCREMENT,
          alert_id        TEXT NOT NULL REFERENCES alerts(id),
          status          TEXT NOT NULL,
          url             TEXT NOT NULL,
          payload         TEXT NOT NULL,
          attempts        INTEGER NOT NULL DEFAULT 0,
          next_attempt_ms INTEGER NOT NULL,
          delivered_ms    INTEGER NOT NULL DEFAULT 0,
          last_error      TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX alert_deliveries_due ON alert_deliveries(delivered_ms, next_attempt_ms);
        CREATE TABLE slo_minutes (
          slo    TEXT NOT NULL,
          minute INTEGER NOT NULL,
          total  INTEGER NOT NULL,
          bad    INTEGER NOT NULL,
          PRIMARY KEY (slo, minute)
        );
      )sql"},
  };
  return kMigrations;
}

constexpr const char* kAlertColumns =
    "SELECT id, key, name, severity, state, summary, labels, details, started_ms, updated_ms, "
    "resolved_ms, (SELECT COUNT(*) FROM alert_deliveries d WHERE d.alert_id = alerts.id AND "
    "d.delivered_ms = 0) FROM alerts ";

AlertRow ReadAlert(SqliteStatement& q) {
  AlertRow r;
  r.id = q.ColumnText(0);
  r.key = q.ColumnText(1);
  r.name = q.ColumnText(2);
  r.severity = q.ColumnText(3);
  r.state = q.ColumnText(4);
  r.summary = q.ColumnText(5);
  r.labels_json = q.ColumnText(6);
  r.details_json = q.ColumnText(7);
  r.started_ms = q.ColumnInt(8);
  r.updated_ms = q.ColumnInt(9);
  r.resolved_ms = q.ColumnInt(10);
  r.deliveries_pending = q.ColumnInt(11);
  return r;
}

std::string LabelsJson(const AlertEvent& e) {
  JsonWriter w;
  w.BeginObject().Key("alertname").String(e.name).Key("severity").String(e.severity);
  for (const auto& [k, v] : e.labels) w.Key(k).String(v);
  w.EndObject();
  return std::move(w).Take();
}

std::string Rfc3339(int64_t ms) { return ms > 0 ? FormatUtc(ms) : "0001-01-01T00:00:00Z"; }

}  // namespace

StatusOr<std::unique_ptr<AlertManager>> AlertManager::Open(const std::string& path,
                                                           const AlertsConfig& config,
                                                           const Clock& clock,
                                                           MetricsRegistry& metrics) {
  ASSIGN_OR_RETURN(auto db, SqliteDb::Open(path, SqliteDb::Mode::kReadWrite));
  RETURN_IF_ERROR(ApplyMigrations(*db, AlertMigrations()).WithContext("alerts '" + path + "'"));
  std::unique_ptr<AlertManager> m(new AlertManager(std::move(db), config, clock, metrics));
  ASSIGN_OR_RETURN(auto q, m->db_->Prepare("SELECT key, id FROM alerts WHERE state = 'firing'"));
  while (true) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    m->firing_[q.ColumnText(0)] = q.ColumnText(1);
  }
  m->firing_gauge_->Set(static_cast<double>(m->firing_.size()));
  return m;
}

AlertManager::AlertManager(std::unique_ptr<SqliteDb> db, const AlertsConfig& config,
                           const Clock& clock, MetricsRegistry& metrics)
    : config_(config), clock_(clock), ids_(clock), db_(std::move(db)) {
  deliveries_ =
      metrics.AddCounter("closedloop_alert_webhook_deliveries_total",
                         "Alert webhook POSTs by result (delivered, failed).", {"result"});
  firing_gauge_ =
      &metrics.AddGauge("closedloop_alerts_firing", "Alerts firing now.", {})->Labels({});
}

AlertManager::~AlertManager() { Stop(); }

Status AlertManager::Raise(const AlertEvent& e) {
  std::lock_guard lock(mu_);
  int64_t now = clock_.NowUnixMillis();
  auto it = firing_.find(e.key);
  if (it != firing_.end()) {
    ASSIGN_OR_RETURN(auto q,
                     db_->Prepare("UPDATE alerts SET details = ?, summary = ?, updated_ms = ? "
                                  "WHERE id = ?"));
    q.BindText(1, e.details_json);
    q.BindText(2, e.summary);
    q.BindInt(3, now);
    q.BindText(4, it->second);
    return q.Step().status();
  }
  AlertRow a;
  a.id = ids_.Next();
  a.key = e.key;
  a.name = e.name;
  a.severity = e.severity;
  a.state = "firing";
  a.summary = e.summary;
  a.labels_json = LabelsJson(e);
  a.details_json = e.details_json;
  a.started_ms = a.updated_ms = now;
  RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE"));
  auto write = [&]() -> Status {
    ASSIGN_OR_RETURN(auto q, db_->Prepare("INSERT INTO alerts (id, key, name, severity, state, "
                                          "summary, labels, details, started_ms, updated_ms) "
                                          "VALUES (?,?,?,?,?,?,?,?,?,?)"));
    q.BindText(1, a.id);
    q.BindText(2, a.key);
    q.BindText(3, a.name);
    q.BindText(4, a.severity);
    q.BindText(5, a.state);
    q.BindText(6, a.summary);
    q.BindText(7, a.labels_json);
    q.BindText(8, a.details_json);
    q.BindInt(9, a.started_ms);
    q.BindInt(10, a.updated_ms);
    RETURN_IF_ERROR(q.Step().status());
    return Enqueue(a, "firing");
  };
  Status s = write();
  RETURN_IF_ERROR(db_->Exec(s.ok() ? "COMMIT" : "ROLLBACK"));
  RETURN_IF_ERROR(s);
  firing_[a.key] = a.id;
  firing_gauge_->Set(static_cast<double>(firing_.size()));
  LogWarn("alert firing")
      .Kv("alert", a.name)
      .Kv("key", a.key)
      .Kv("severity", a.severity)
      .Kv("id", a.id)
      .Kv("summary", a.summary);
  wake_.notify_all();
  return OkStatus();
}

Status AlertManager::Resolve(const std::string& key) {
  std::lock_guard lock(mu_);
  auto it = firing_.find(key);
  if (it == firing_.end()) return OkStatus();
  int64_t now = clock_.NowUnixMillis();
  RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE"));
  auto write = [&]() -> Status {
    ASSIGN_OR_RETURN(auto q, db_->Prepare("UPDATE alerts SET state = 'resolved', resolved_ms = ?, "
                                          "updated_ms = ? WHERE id = ?"));
    q.BindInt(1, now);
    q.BindInt(2, now);
    q.BindText(3, it->second);
    RETURN_IF_ERROR(q.Step().status());
    ASSIGN_OR_RETURN(AlertRow a, Load(it->second));
    return Enqueue(a, "resolved");
  };
  Status s = write();
  RETURN_IF_ERROR(db_->Exec(s.ok() ? "COMMIT" : "ROLLBACK"));
  RETURN_IF_ERROR(s);
  LogInfo("alert resolved").Kv("key", key).Kv("id", it->second);
  firing_.erase(it);
  firing_gauge_->Set(static_cast<double>(firing_.size()));
  wake_.notify_all();
  return OkStatus();
}

bool AlertManager::IsFiring(const std::string& key) const {
  std::lock_guard lock(mu_);
  return firing_.count(key) > 0;
}

StatusOr<AlertRow> AlertManager::Load(const std::string& id) {
  ASSIGN_OR_RETURN(auto q, db_->Prepare(std::string(kAlertColumns) + "WHERE id = ?"));
  q.BindText(1, id);
  ASSIGN_OR_RETURN(bool row, q.Step());
  if (!row) return NotFound("alert '" + id + "' not found");
  return ReadAlert(q);
}

StatusOr<std::vector<AlertRow>> AlertManager::List(const std::string& state, int64_t limit) const {
  std::lock_guard lock(mu_);
  std::string sql = kAlertColumns;
  if (!state.empty()) sql += "WHERE state = ? ";
  sql += "ORDER BY started_ms DESC, id DESC LIMIT ?";
  ASSIGN_OR_RETURN(auto q, db_->Prepare(sql));
  int i = 1;
  if (!state.empty()) q.BindText(i++, state);
  q.BindInt(i, limit);
  std::vector<AlertRow> out;
  while (true) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(ReadAlert(q));
  }
  return out;
}

Status AlertManager::Enqueue(const AlertRow& a, const std::string& status) {
  if (config_.webhooks.empty()) return OkStatus();
  JsonWriter w(1024);
  w.BeginObject()
      .Key("version")
      .String("4")
      .Key("status")
      .String(status)
      .Key("receiver")
      .String("closedloop")
      .Key("groupKey")
      .String(a.key)
      .Key("alerts")
      .BeginArray()
      .BeginObject()
      .Key("status")
      .String(status)
      .Key("labels")
      .Raw(a.labels_json)
      .Key("annotations")
      .BeginObject()
      .Key("summary")
      .String(a.summary)
      .EndObject()
      .Key("startsAt")
      .String(Rfc3339(a.started_ms))
      .Key("endsAt")
      .String(Rfc3339(a.resolved_ms))
      .Key("fingerprint")
      .String(a.id)
      .EndObject()
      .EndArray()
      .Key("closedloop")
      .BeginObject()
      .Key("id")
      .String(a.id)
      .Key("key")
      .String(a.key)
      .Key("details")
      .Raw(a.details_json)
      .EndObject()
      .EndObject();
  std::string payload = std::move(w).Take();
  ASSIGN_OR_RETURN(auto q, db_->Prepare("INSERT INTO alert_deliveries (alert_id, status, url, "
                                        "payload, next_attempt_ms) VALUES (?,?,?,?,?)"));
  for (const auto& url : config_.webhooks) {
    q.BindText(1, a.id);
    q.BindText(2, status);
    q.BindText(3, url);
    q.BindText(4, payload);
    q.BindInt(5, clock_.NowUnixMillis());
    RETURN_IF_ERROR(q.Step().status());
    RETURN_IF_ERROR(q.Reset());
  }
  return OkStatus();
}

int AlertManager::DeliverDue() {
  struct Due {
    int64_t seq, attempts;
    std::string url, payload;
  };
  std::vector<Due> due;
  {
    std::lock_guard lock(mu_);
    auto q = db_->Prepare(
        "SELECT seq, attempts, url, payload FROM alert_deliveries WHERE delivered_ms = 0 AND "
        "next_attempt_ms <= ? ORDER BY seq LIMIT 64");
    if (!q.ok()) return 0;
    q->BindInt(1, clock_.NowUnixMillis());
    while (true) {
      auto row = q->Step();
      if (!row.ok() || !*row) break;
      due.push_back({q->ColumnInt(0), q->ColumnInt(1), q->ColumnText(2), q->ColumnText(3)});
    }
  }
  int delivered = 0;
  for (const Due& d : due) {
    auto res = HttpCall("POST", d.url, d.payload, {},
                        std::chrono::milliseconds(config_.webhook_timeout_ms));
    std::string error;
    if (!res.ok()) {
      error = res.status().message();
    } else if (res->status < 200 || res->status >= 300) {
      error = "HTTP " + std::to_string(res->status);
    }
    std::lock_guard lock(mu_);
    int64_t now = clock_.NowUnixMillis();
    if (error.empty()) {
      ++delivered;
      deliveries_->Labels({"delivered"}).Inc();
      auto q = db_->Prepare(
          "UPDATE alert_deliveries SET delivered_ms = ?, attempts = attempts + 1 WHERE seq = ?");
      if (!q.ok()) continue;
      q->BindInt(1, now);
      q->BindInt(2, d.seq);
      (void)q->Step();
      continue;
    }
    deliveries_->Labels({"failed"}).Inc();
    int64_t backoff = config_.retry_initial_ms;
    for (int64_t i = 0; i < d.attempts && backoff < config_.retry_max_ms; ++i) backoff *= 2;
    backoff = std::min<int64_t>(backoff, config_.retry_max_ms);
    LogWarn("alert webhook failed; will retry")
        .Kv("url", d.url)
        .Kv("attempt", d.attempts + 1)
        .Kv("retry_in_ms", backoff)
        .Kv("error", error);
    auto q = db_->Prepare(
        "UPDATE alert_deliveries SET attempts = attempts + 1, next_attempt_ms = ?, "
        "last_error = ? WHERE seq = ?");
    if (!q.ok()) continue;
    q->BindInt(1, now + backoff);
    q->BindText(2, error);
    q->BindInt(3, d.seq);
    (void)q->Step();
  }
  return delivered;
}

void AlertManager::Start() {
  if (config_.webhooks.empty() || thread_.joinable()) return;
  thread_ = std::thread([this] { Run(); });
}

void AlertManager::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void AlertManager::Run() {
  // Wakes on a new event or every tick; the tick bounds how late a retry runs.
  const auto tick = std::chrono::milliseconds(std::min(config_.retry_initial_ms, 1000));
  while (true) {
    DeliverDue();
    std::unique_lock lock(mu_);
    if (stop_) return;
    wake_.wait_for(lock, tick);
    if (stop_) return;
  }
}

}  // namespace closedloop
