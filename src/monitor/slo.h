// SLO arithmetic, free of I/O: a per-minute series of (total, bad) events, the
// SLI and error budget over the compliance period, and the multi-window
// multi-burn-rate alert rules of the Google SRE workbook (chapter 5).
//
// Burn rate over a window = (bad / total) / (1 - objective): 1 spends exactly the
// budget over the compliance period. A window holds the minutes that ended within
// it plus the current minute; a window with no events burns 0.
//
// Thread safety: none; MinuteSeries and the functions are used by one thread at a
// time (SloMonitor serializes them).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace closedloop {

struct EventCounts {
  int64_t total = 0;
  int64_t bad = 0;
};

// Counts per minute (minute = Unix ms / 60000), kept for `retention_minutes`.
class MinuteSeries {
 public:
  explicit MinuteSeries(int64_t retention_minutes) : retention_(retention_minutes) {}
  // Adds to the minute's counts; drops minutes older than the retention.
  void Add(int64_t minute, EventCounts delta);
  // Replaces a minute's counts (loading from the store).
  void Set(int64_t minute, EventCounts counts);
  EventCounts Get(int64_t minute) const;
  // Sum over the `minutes` minutes ending with `now_minute` (inclusive).
  EventCounts Window(int64_t now_minute, int64_t minutes) const;

 private:
  void Prune(int64_t newest);
  int64_t retention_;
  std::map<int64_t, EventCounts> minutes_;
};

double BurnRate(EventCounts c, double objective);
// "5m", "1h", "3d": the window names used in JSON and alert summaries.
std::string WindowName(int64_t minutes);

// Fires when both windows burn faster than `factor`.
struct BurnRateRule {
  std::string name;      // page_fast | page_slow | ticket
  std::string severity;  // page | ticket
  int64_t long_minutes, short_minutes;
  double factor;
};
// 14.4x over 1h and 5m (page), 6x over 6h and 30m (page), 1x over 3d and 6h (ticket).
const std::vector<BurnRateRule>& WorkbookBurnRateRules();

struct WindowBurn {
  std::string window;  // "5m", "30m", "1h", "6h", "3d"
  int64_t minutes = 0;
  EventCounts counts;
  double burn_rate = 0;
};

struct RuleState {
  BurnRateRule rule;
  double long_burn = 0, short_burn = 0;
  bool firing = false;
  std::string reason;  // why it is not firing when one window is over the factor
};

struct SloStatus {
  std::string name;  // availability | latency
  double objective = 0;
  double threshold_ms = 0;  // latency SLOs
  int64_t period_minutes = 0;
  EventCounts period;
  double sli = 1;               // good share over the period; 1 with no events
  double budget_total = 0;      // bad events allowed over the period so far
  double budget_remaining = 1;  // 1 - bad / allowed; negative when overspent
  std::vector<WindowBurn> windows;
  std::vector<RuleState> rules;
};

// `min_requests`: a rule fires only when its short window holds at least this many events.
SloStatus EvaluateSlo(const std::string& name, double objective, double threshold_ms,
                      const MinuteSeries& series, int64_t now_minute, int64_t period_minutes,
                      int64_t min_requests);

std::string SloStatusJson(const SloStatus& s);

}  // namespace closedloop
