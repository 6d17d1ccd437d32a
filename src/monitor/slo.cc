#include "monitor/slo.h"

#include "core/json_writer.h"

namespace closedloop {

void MinuteSeries::Add(int64_t minute, EventCounts delta) {
  if (delta.total == 0 && delta.bad == 0) return;
  EventCounts& c = minutes_[minute];
  c.total += delta.total;
  c.bad += delta.bad;
  Prune(minute);
}

void MinuteSeries::Set(int64_t minute, EventCounts counts) {
  minutes_[minute] = counts;
  Prune(minutes_.rbegin()->first);
}

EventCounts MinuteSeries::Get(int64_t minute) const {
  auto it = minutes_.find(minute);
  return it == minutes_.end() ? EventCounts{} : it->second;
}

EventCounts MinuteSeries::Window(int64_t now_minute, int64_t minutes) const {
  EventCounts sum;
  for (auto it = minutes_.lower_bound(now_minute - minutes + 1);
       it != minutes_.end() && it->first <= now_minute; ++it) {
    sum.total += it->second.total;
    sum.bad += it->second.bad;
  }
  return sum;
}

void MinuteSeries::Prune(int64_t newest) {
  minutes_.erase(minutes_.begin(), minutes_.lower_bound(newest - retention_ + 1));
}

double BurnRate(EventCounts c, double objective) {
  if (c.total <= 0 || objective >= 1) return 0;
  return (static_cast<double>(c.bad) / static_cast<double>(c.total)) / (1 - objective);
}

const std::vector<BurnRateRule>& WorkbookBurnRateRules() {
  static const std::vector<BurnRateRule> kRules = {
      {"page_fast", "page", 60, 5, 14.4},
      {"page_slow", "page", 360, 30, 6},
      {"ticket", "ticket", 4320, 360, 1},
  };
  return kRules;
}

std::string WindowName(int64_t minutes) {
  if (minutes % 1440 == 0) return std::to_string(minutes / 1440) + "d";
  if (minutes % 60 == 0) return std::to_string(minutes / 60) + "h";
  return std::to_string(minutes) + "m";
}

SloStatus EvaluateSlo(const std::string& name, double objective, double threshold_ms,
                      const MinuteSeries& series, int64_t now_minute, int64_t period_minutes,
                      int64_t min_requests) {
  SloStatus s;
  s.name = name;
  s.objective = objective;
  s.threshold_ms = threshold_ms;
  s.period_minutes = period_minutes;
  s.period = series.Window(now_minute, period_minutes);
  if (s.period.total > 0) {
    s.sli = 1 - static_cast<double>(s.period.bad) / static_cast<double>(s.period.total);
  }
  s.budget_total = (1 - objective) * static_cast<double>(s.period.total);
  if (s.budget_total > 0) {
    s.budget_remaining = 1 - static_cast<double>(s.period.bad) / s.budget_total;
  } else if (s.period.bad > 0) {
    s.budget_remaining = 0;
  }
  for (int64_t m : {5, 30, 60, 360, 4320}) {
    WindowBurn w;
    w.window = WindowName(m);
    w.minutes = m;
    w.counts = series.Window(now_minute, m);
    w.burn_rate = BurnRate(w.counts, objective);
    s.windows.push_back(std::move(w));
  }
  for (const BurnRateRule& rule : WorkbookBurnRateRules()) {
    RuleState r;
    r.rule = rule;
    EventCounts long_c = series.Window(now_minute, rule.long_minutes);
    EventCounts short_c = series.Window(now_minute, rule.short_minutes);
    r.long_burn = BurnRate(long_c, objective);
    r.short_burn = BurnRate(short_c, objective);
    bool over = r.long_burn > rule.factor && r.short_burn > rule.factor;
    if (over && short_c.total < min_requests) {
      r.reason = "only " + std::to_string(short_c.total) + " requests in the " +
                 WindowName(rule.short_minutes) + " window (min_requests " +
                 std::to_string(min_requests) + ")";
    }
    r.firing = over && short_c.total >= min_requests;
    s.rules.push_back(std::move(r));
  }
  return s;
}

std::string SloStatusJson(const SloStatus& s) {
  JsonWriter w(1024);
  w.BeginObject().Key("name").String(s.name).Key("objective").Double(s.objective);
  if (s.threshold_ms > 0) w.Key("threshold_ms").Double(s.threshold_ms);
  w.Key("period_days")
      .Double(static_cast<double>(s.period_minutes) / 1440.0)
      .Key("requests")
      .Int(s.period.total)
      .Key("bad")
      .Int(s.period.bad)
      .Key("sli")
      .Double(s.sli)
      .Key("error_budget")
      .BeginObject()
      .Key("allowed_bad")
      .Double(s.budget_total)
      .Key("remaining")
      .Double(s.budget_remaining)
      .EndObject()
      .Key("burn_rates")
      .BeginObject();
  for (const auto& win : s.windows) {
    w.Key(win.window)
        .BeginObject()
        .Key("requests")
        .Int(win.counts.total)
        .Key("bad")
        .Int(win.counts.bad)
        .Key("burn_rate")
        .Double(win.burn_rate)
        .EndObject();
  }
  w.EndObject().Key("alerts").BeginArray();
  for (const auto& r : s.rules) {
    w.BeginObject()
        .Key("rule")
        .String(r.rule.name)
        .Key("severity")
        .String(r.rule.severity)
        .Key("factor")
        .Double(r.rule.factor)
        .Key("long_window")
        .String(WindowName(r.rule.long_minutes))
        .Key("short_window")
        .String(WindowName(r.rule.short_minutes))
        .Key("long_burn_rate")
        .Double(r.long_burn)
        .Key("short_burn_rate")
        .Double(r.short_burn)
        .Key("firing")
        .Bool(r.firing);
    if (!r.reason.empty()) w.Key("note").String(r.reason);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return std::move(w).Take();
}

}  // namespace closedloop
