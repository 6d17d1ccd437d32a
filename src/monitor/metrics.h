// Metrics registry rendering the Prometheus text exposition format (0.0.4).
//
// Families are registered once at start-up (AddCounter/AddGauge/AddHistogram) and
// live as long as the registry; the returned pointers stay valid. A family's
// series are created on first use of a label combination and never freed, so a
// Counter&/Gauge&/Histogram& obtained once may be kept and used forever.
//
// Thread safety: everything is safe from any thread. The request path takes no
// shared lock: series values are atomics, and Labels() looks a series up in a
// per-thread cache, taking the family's mutex only the first time a thread sees a
// label combination. Keep label cardinality bounded (routes, models, codes).
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

namespace closedloop {

class Counter {
 public:
  void Inc(double v = 1) { value_.fetch_add(v, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

class Gauge {
 public:
  void Set(double v) { value_.store(v, std::memory_order_relaxed); }
  void Add(double v) { value_.fetch_add(v, std::memory_order_relaxed); }
  double Value() const { return value_.load(std::memory_order_relaxed); }

 private:
  std::atomic<double> value_{0};
};

// Cumulative histogram with fixed upper bounds (seconds for latencies).
class Histogram {
 public:
  explicit Histogram(const std::vector<double>* bounds);
  void Observe(double v);
  uint64_t Count() const { return count_.load(std::memory_order_relaxed); }
  double Sum() const { return sum_.load(std::memory_order_relaxed); }
  // Non-cumulative count of bucket i (i == bounds.size() is +Inf).
  uint64_t BucketCount(size_t i) const { return buckets_[i].load(std::memory_order_relaxed); }

 private:
  const std::vector<double>* bounds_;
  std::unique_ptr<std::atomic<uint64_t>[]> buckets_;
  std::atomic<uint64_t> count_{0};
  std::atomic<double> sum_{0};
};

// Latency buckets from 50 µs to 10 s, in seconds.
const std::vector<double>& DefaultLatencyBuckets();

enum class MetricType { kCounter, kGauge, kHistogram };

template <typename T>
class Family {
 public:
  Family(std::string name, std::string help, MetricType type, std::vector<std::string> labels,
         std::vector<double> bounds = {});
  // The series for these label values (same order and count as the label names).
  T& Labels(const std::vector<std::string_view>& values);
  const std::string& name() const { return name_; }

  void Render(std::string& out) const;
  // Calls fn(label values, series) for every series, under the family's mutex
  // (scrape-time readers such as the SLO monitor; not for the request path).
  void ForEach(const std::function<void(const std::vector<std::string>&, const T&)>& fn) const;
  const std::vector<std::string>& label_names() const { return label_names_; }
  const std::vector<double>& bounds() const { return bounds_; }

 private:
  T& Create(const std::string& key, const std::vector<std::string_view>& values);
  // Unique for the process lifetime (never reused), so per-thread caches keyed by it
  // cannot confuse a destroyed family with a new one at the same address.
  const uint64_t id_;
  std::string name_, help_;
  MetricType type_;
  std::vector<std::string> label_names_;
  std::vector<double> bounds_;
  mutable std::mutex mu_;
  // key: label values joined by '\x1f'. Guarded by mu_; values never erased.
  std::map<std::string, std::pair<std::vector<std::string>, std::unique_ptr<T>>> series_;
};

class MetricsRegistry {
 public:
  Family<Counter>* AddCounter(std::string name, std::string help, std::vector<std::string> labels);
  Family<Gauge>* AddGauge(std::string name, std::string help, std::vector<std::string> labels);
  Family<Histogram>* AddHistogram(std::string name, std::string help,
                                  std::vector<std::string> labels,
                                  std::vector<double> bounds = DefaultLatencyBuckets());
  // A single unlabelled value read at scrape time (process stats, queue depths).
  void AddCallback(std::string name, std::string help, MetricType type,
                   std::function<double()> read);

  std::string Render() const;
  // The family registered under `name`, or null (first match; names are unique by convention).
  const Family<Counter>* FindCounter(std::string_view name) const;
  const Family<Histogram>* FindHistogram(std::string_view name) const;

 private:
  struct CallbackMetric {
    std::string name, help;
    MetricType type;
    std::function<double()> read;
  };
  mutable std::mutex mu_;  // guards the lists below (registration and scrape only)
  std::vector<std::function<void(std::string&)>> renderers_;
  std::vector<std::unique_ptr<Family<Counter>>> counters_;
  std::vector<std::unique_ptr<Family<Gauge>>> gauges_;
  std::vector<std::unique_ptr<Family<Histogram>>> histograms_;
  std::vector<std::unique_ptr<CallbackMetric>> callbacks_;
};

// Appends a sample value the way Prometheus expects (+Inf, -Inf, NaN, shortest form).
void AppendMetricValue(std::string& out, double v);

}  // namespace closedloop
