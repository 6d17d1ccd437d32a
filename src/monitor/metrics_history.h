// MetricsHistory: the request rate, error rate and latency quantiles over time,
// kept by the binary (the console's overview charts them; /metrics has only the
// current counters). Every history_interval_ms a sample reads
// closedloop_requests_total and closedloop_request_duration_seconds over
// slo.routes (as the SLOs do) and stores the increase since the previous sample
// as one point; the newest history_points points are kept in memory.
//   requests, errors   answers and 5xx answers in the interval;
//   rate_per_s         requests / interval;
//   error_rate         errors / requests (absent without requests);
//   p50_ms, p99_ms     from the interval's histogram buckets, interpolated
//                      linearly inside a bucket as Prometheus's histogram_quantile
//                      does (absent without requests).
// Thread safety: every method from any thread; a mutex guards the points (the
// request path never touches it: it only bumps the metrics' atomics).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/config.h"
#include "monitor/metrics.h"

namespace closedloop {

struct MetricsPoint {
  int64_t ts_ms = 0;      // end of the interval (Unix epoch)
  double interval_s = 0;  // its length
  int64_t requests = 0, errors = 0;
  double rate_per_s = 0;
  std::optional<double> error_rate, p50_ms, p99_ms;
};

// The q-quantile (0..1) of a non-cumulative bucket histogram (`counts` has one
// entry per bound plus +Inf; bounds ascending), linear inside the bucket; a
// quantile in the +Inf bucket is the last bound. nullopt when the counts are 0.
std::optional<double> HistogramQuantile(const std::vector<double>& bounds,
                                        const std::vector<uint64_t>& counts, double q);

class MetricsHistory {
 public:
  // `metrics` and `clock` must outlive the history.
  MetricsHistory(const SloConfig& config, const MetricsRegistry& metrics, const Clock& clock);
  ~MetricsHistory();

  // Takes one point: the increase since the previous Sample() (the first one
  // only sets the baseline and stores nothing).
  void Sample();
  // The kept points with ts_ms >= since_ms, oldest first.
  std::vector<MetricsPoint> Points(int64_t since_ms) const;
  int interval_ms() const { return config_.history_interval_ms; }
  int64_t NowMs() const { return clock_.NowUnixMillis(); }  // the injected clock's time

  // Samples every history_interval_ms on a background thread until Stop().
  void Start();
  void Stop();

 private:
  struct Totals {
    int64_t requests = 0, errors = 0;
    std::vector<uint64_t> buckets;  // summed over the routes; bounds + 1 entries
  };
  Totals Read() const;

  const SloConfig config_;
  const std::set<std::string, std::less<>> routes_;
  const MetricsRegistry& metrics_;
  const Clock& clock_;
  mutable std::mutex mu_;
  std::optional<Totals> last_;       // guarded by mu_
  int64_t last_ms_ = 0;              // guarded by mu_
  std::deque<MetricsPoint> points_;  // guarded by mu_
  bool stop_ = false;                // guarded by mu_
  std::condition_variable wake_;
  std::thread thread_;
};

// {"interval_ms", "points": [{ts_ms, interval_s, requests, errors, rate_per_s,
//  error_rate, p50_ms, p99_ms}]} (null for an absent value).
std::string MetricsHistoryJson(int interval_ms, const std::vector<MetricsPoint>& points);

}  // namespace closedloop
