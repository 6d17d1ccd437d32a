#include "monitor/slo_monitor.h"

#include <cmath>
#include <set>

#include "core/json_writer.h"
#include "core/logging.h"

namespace closedloop {

namespace {

constexpr int64_t kMinuteMs = 60000;

std::string FormatMs(double ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", ms);
  return buf;
}

}  // namespace

StatusOr<std::unique_ptr<SloMonitor>> SloMonitor::Create(const SloConfig& config,
                                                         const std::string& db_path,
                                                         const MetricsRegistry& metrics,
                                                         AlertManager& alerts, const Clock& clock) {
  if (config.latency > 0) {
    const auto& bounds = DefaultLatencyBuckets();
    bool found = false;
    std::string allowed;
    for (double b : bounds) {
      found = found || std::fabs(b * 1000 - config.latency_threshold_ms) < 1e-9;
      allowed += (allowed.empty() ? "" : ", ") + FormatMs(b * 1000);
    }
    if (!found) {
      return InvalidArgument("'slo.latency_threshold_ms' " + FormatMs(config.latency_threshold_ms) +
                             " is not a bound of the request-duration histogram; use one of " +
                             allowed);
    }
  }
  ASSIGN_OR_RETURN(auto db, SqliteDb::Open(db_path, SqliteDb::Mode::kReadWrite));
  std::unique_ptr<SloMonitor> m(new SloMonitor(config, std::move(db), metrics, alerts, clock));
  // The budget's history from earlier runs of the process.
  int64_t oldest = clock.NowUnixMillis() / kMinuteMs - config.window_days * 1440;
  for (auto& o : m->objectives_) {
    ASSIGN_OR_RETURN(auto q, m->db_->Prepare("SELECT minute, total, bad FROM slo_minutes WHERE "
                                             "slo = ? AND minute > ? ORDER BY minute"));
    q.BindText(1, o.name);
    q.BindInt(2, oldest);
    while (true) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      o.series.Set(q.ColumnInt(0), {q.ColumnInt(1), q.ColumnInt(2)});
    }
  }
  return m;
}

SloMonitor::SloMonitor(const SloConfig& config, std::unique_ptr<SqliteDb> db,
                       const MetricsRegistry& metrics, AlertManager& alerts, const Clock& clock)
    : config_(config),
      routes_(config.routes.begin(), config.routes.end()),
      metrics_(metrics),
      alerts_(alerts),
      clock_(clock),
      db_(std::move(db)) {
  int64_t retention = config.window_days * 1440;
  if (config.availability > 0) {
    objectives_.push_back({"availability", config.availability, 0, 0, MinuteSeries(retention), {}});
  }
  if (config.latency > 0) {
    const auto& bounds = DefaultLatencyBuckets();
    size_t bucket = 0;
    while (bucket + 1 < bounds.size() &&
           std::fabs(bounds[bucket] * 1000 - config.latency_threshold_ms) >= 1e-9) {
      ++bucket;
    }
    objectives_.push_back({"latency",
                           config.latency,
                           config.latency_threshold_ms,
                           bucket,
                           MinuteSeries(retention),
                           {}});
  }
}

SloMonitor::~SloMonitor() { Stop(); }

EventCounts SloMonitor::Read(const Objective& o) const {
  const auto& routes = routes_;
  EventCounts c;
  if (o.threshold_ms <= 0) {
    const Family<Counter>* requests = metrics_.FindCounter("closedloop_requests_total");
    if (requests == nullptr) return c;
    // Labels: route, method, model, version, code.
    requests->ForEach([&](const std::vector<std::string>& labels, const Counter& v) {
      if (labels.size() < 5 || !routes.count(labels[0])) return;
      auto n = static_cast<int64_t>(v.Value());
      c.total += n;
      if (!labels[4].empty() && labels[4][0] == '5') c.bad += n;
    });
    return c;
  }
  const Family<Histogram>* seconds = metrics_.FindHistogram("closedloop_request_duration_seconds");
  if (seconds == nullptr) return c;
  seconds->ForEach([&](const std::vector<std::string>& labels, const Histogram& h) {
    if (labels.empty() || !routes.count(labels[0])) return;
    uint64_t good = 0;
    for (size_t i = 0; i <= o.bucket; ++i) good += h.BucketCount(i);
    // Count() and the buckets are separate atomics: clamp a sample taken mid-update.
    auto total = static_cast<int64_t>(std::max<uint64_t>(h.Count(), good));
    c.total += total;
    c.bad += total - static_cast<int64_t>(good);
  });
  return c;
}

std::vector<SloStatus> SloMonitor::Status() {
  std::lock_guard lock(mu_);
  return TickLocked();
}

std::vector<SloStatus> SloMonitor::TickLocked() {
  int64_t now_minute = clock_.NowUnixMillis() / kMinuteMs;
  std::vector<SloStatus> out;
  for (auto& o : objectives_) {
    EventCounts now = Read(o);
    EventCounts delta{now.total - o.last.total, now.bad - o.last.bad};
    if (delta.total < 0 || delta.bad < 0) delta = now;  // counters restarted
    o.last = now;
    if (delta.total > 0 || delta.bad > 0) {
      o.series.Add(now_minute, delta);
      EventCounts minute = o.series.Get(now_minute);
      auto q = db_->Prepare("INSERT OR REPLACE INTO slo_minutes VALUES (?,?,?,?)");
      if (q.ok()) {
        q->BindText(1, o.name);
        q->BindInt(2, now_minute);
        q->BindInt(3, minute.total);
        q->BindInt(4, minute.bad);
        if (auto s = q->Step(); !s.ok())
          LogWarn("slo minute not saved").Kv("error", s.status().message());
      }
    }
    SloStatus s = EvaluateSlo(o.name, o.objective, o.threshold_ms, o.series, now_minute,
                              config_.window_days * 1440, config_.min_requests);
    for (const RuleState& r : s.rules) {
      std::string key = "slo:" + o.name + ":" + r.rule.name;
      if (!r.firing) {
        if (auto st = alerts_.Resolve(key); !st.ok())
          LogWarn("alert not resolved").Kv("error", st.message());
        continue;
      }
      char summary[256];
      std::snprintf(summary, sizeof summary,
                    "%s SLO %.4g%%: error budget burning %.1fx over %s and %.1fx over %s "
                    "(threshold %.1fx)",
                    o.name.c_str(), o.objective * 100, r.long_burn,
                    WindowName(r.rule.long_minutes).c_str(), r.short_burn,
                    WindowName(r.rule.short_minutes).c_str(), r.rule.factor);
      JsonWriter d;
      d.BeginObject()
          .Key("slo")
          .String(o.name)
          .Key("objective")
          .Double(o.objective)
          .Key("rule")
          .String(r.rule.name)
          .Key("factor")
          .Double(r.rule.factor)
          .Key("long_burn_rate")
          .Double(r.long_burn)
          .Key("short_burn_rate")
          .Double(r.short_burn)
          .Key("error_budget_remaining")
          .Double(s.budget_remaining)
          .EndObject();
      AlertEvent e{key,
                   "SloBurnRate",
                   r.rule.severity,
                   summary,
                   {{"slo", o.name}, {"rule", r.rule.name}},
                   std::move(d).Take()};
      if (auto st = alerts_.Raise(e); !st.ok())
        LogWarn("alert not raised").Kv("error", st.message());
    }
    out.push_back(std::move(s));
  }
  return out;
}

void SloMonitor::Start() {
  if (thread_.joinable() || objectives_.empty()) return;
  thread_ = std::thread([this] { Run(); });
}

void SloMonitor::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void SloMonitor::Run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    TickLocked();
    wake_.wait_for(lock, std::chrono::milliseconds(config_.interval_ms), [this] { return stop_; });
  }
}

}  // namespace closedloop
