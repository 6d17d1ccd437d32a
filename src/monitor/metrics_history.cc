#include "monitor/metrics_history.h"

#include <algorithm>

#include "core/json_writer.h"

namespace closedloop {

std::optional<double> HistogramQuantile(const std::vector<double>& bounds,
                                        const std::vector<uint64_t>& counts, double q) {
  uint64_t total = 0;
  for (uint64_t c : counts) total += c;
  if (total == 0 || bounds.empty()) return std::nullopt;
  const double rank = std::clamp(q, 0.0, 1.0) * static_cast<double>(total);
  double below = 0;
  for (size_t i = 0; i < counts.size(); ++i) {
    const auto c = static_cast<double>(counts[i]);
    if (c > 0 && below + c >= rank) {
      if (i >= bounds.size()) return bounds.back();  // the +Inf bucket
      const double lower = i == 0 ? 0 : bounds[i - 1];
      return lower + (bounds[i] - lower) * std::max(0.0, rank - below) / c;
    }
    below += c;
  }
  return bounds.back();
}

MetricsHistory::MetricsHistory(const SloConfig& config, const MetricsRegistry& metrics,
                               const Clock& clock)
    : config_(config),
      routes_(config.routes.begin(), config.routes.end()),
      metrics_(metrics),
      clock_(clock) {}

MetricsHistory::~MetricsHistory() { Stop(); }

MetricsHistory::Totals MetricsHistory::Read() const {
  Totals t;
  if (const auto* requests = metrics_.FindCounter("closedloop_requests_total")) {
    // Labels: route, method, model, version, code.
    requests->ForEach([&](const std::vector<std::string>& labels, const Counter& v) {
      if (labels.size() < 5 || !routes_.count(labels[0])) return;
      auto n = static_cast<int64_t>(v.Value());
      t.requests += n;
      if (!labels[4].empty() && labels[4][0] == '5') t.errors += n;
    });
  }
  if (const auto* seconds = metrics_.FindHistogram("closedloop_request_duration_seconds")) {
    t.buckets.assign(seconds->bounds().size() + 1, 0);
    seconds->ForEach([&](const std::vector<std::string>& labels, const Histogram& h) {
      if (labels.empty() || !routes_.count(labels[0])) return;
      for (size_t i = 0; i < t.buckets.size(); ++i) t.buckets[i] += h.BucketCount(i);
    });
  }
  return t;
}

void MetricsHistory::Sample() {
  Totals now = Read();
  const int64_t now_ms = clock_.NowUnixMillis();
  std::lock_guard lock(mu_);
  if (!last_) {
    last_ = std::move(now);
    last_ms_ = now_ms;
    return;
  }
  MetricsPoint p;
  p.ts_ms = now_ms;
  p.interval_s = static_cast<double>(std::max<int64_t>(1, now_ms - last_ms_)) / 1000.0;
  p.requests = std::max<int64_t>(0, now.requests - last_->requests);
  p.errors = std::clamp<int64_t>(now.errors - last_->errors, 0, p.requests);
  p.rate_per_s = static_cast<double>(p.requests) / p.interval_s;
  if (p.requests > 0) {
    p.error_rate = static_cast<double>(p.errors) / static_cast<double>(p.requests);
  }
  if (const auto* seconds = metrics_.FindHistogram("closedloop_request_duration_seconds");
      seconds != nullptr && now.buckets.size() == last_->buckets.size()) {
    std::vector<uint64_t> delta(now.buckets.size());
    for (size_t i = 0; i < delta.size(); ++i) {
      delta[i] = now.buckets[i] >= last_->buckets[i] ? now.buckets[i] - last_->buckets[i] : 0;
    }
    if (auto q = HistogramQuantile(seconds->bounds(), delta, 0.5)) p.p50_ms = *q * 1000;
    if (auto q = HistogramQuantile(seconds->bounds(), delta, 0.99)) p.p99_ms = *q * 1000;
  }
  points_.push_back(p);
  while (static_cast<int64_t>(points_.size()) > config_.history_points) points_.pop_front();
  last_ = std::move(now);
  last_ms_ = now_ms;
}

std::vector<MetricsPoint> MetricsHistory::Points(int64_t since_ms) const {
  std::lock_guard lock(mu_);
  auto first = std::lower_bound(points_.begin(), points_.end(), since_ms,
                                [](const MetricsPoint& p, int64_t t) { return p.ts_ms < t; });
  return {first, points_.end()};
}

void MetricsHistory::Start() {
  if (thread_.joinable()) return;
  thread_ = std::thread([this] {
    std::unique_lock lock(mu_);
    while (!stop_) {
      lock.unlock();
      Sample();
      lock.lock();
      wake_.wait_for(lock, std::chrono::milliseconds(config_.history_interval_ms),
                     [this] { return stop_; });
    }
  });
}

void MetricsHistory::Stop() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string MetricsHistoryJson(int interval_ms, const std::vector<MetricsPoint>& points) {
  JsonWriter w(128 + points.size() * 160);
  auto opt = [&](const char* key, const std::optional<double>& v) {
    w.Key(key);
    v ? w.Double(*v) : w.Null();
  };
  w.BeginObject().Key("interval_ms").Int(interval_ms).Key("points").BeginArray();
  for (const auto& p : points) {
    w.BeginObject().Key("ts_ms").Int(p.ts_ms).Key("interval_s").Double(p.interval_s);
    w.Key("requests").Int(p.requests).Key("errors").Int(p.errors);
    w.Key("rate_per_s").Double(p.rate_per_s);
    opt("error_rate", p.error_rate);
    opt("p50_ms", p.p50_ms);
    opt("p99_ms", p.p99_ms);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return std::move(w).Take();
}

}  // namespace closedloop
