#include "monitor/metrics.h"

#include <charconv>
#include <cmath>
#include <unordered_map>

namespace closedloop {
namespace {

std::string_view TypeName(MetricType t) {
  switch (t) {
    case MetricType::kCounter:
      return "counter";
    case MetricType::kGauge:
      return "gauge";
    case MetricType::kHistogram:
      return "histogram";
  }
  return "untyped";
}

void AppendLabelValue(std::string& out, std::string_view v) {
  for (char c : v) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out += c;
    }
  }
}

void AppendLabels(std::string& out, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, std::string_view extra_name = {},
                  std::string_view extra_value = {}) {
  if (names.empty() && extra_name.empty()) return;
  out += '{';
  bool first = true;
  for (size_t i = 0; i < names.size(); ++i) {
    if (!first) out += ',';
    first = false;
    out += names[i];
    out += "=\"";
    AppendLabelValue(out, values[i]);
    out += '"';
  }
  if (!extra_name.empty()) {
    if (!first) out += ',';
    out += extra_name;
    out += "=\"";
    out += extra_value;
    out += '"';
  }
  out += '}';
}

void AppendHeader(std::string& out, const std::string& name, const std::string& help,
                  MetricType type) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " ";
  out += TypeName(type);
  out += '\n';
}

template <typename T>
void RenderSeries(std::string& out, const std::string& name, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, const T& s);

template <>
void RenderSeries(std::string& out, const std::string& name, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, const Counter& s) {
  out += name;
  AppendLabels(out, names, values);
  out += ' ';
  AppendMetricValue(out, s.Value());
  out += '\n';
}

template <>
void RenderSeries(std::string& out, const std::string& name, const std::vector<std::string>& names,
                  const std::vector<std::string>& values, const Gauge& s) {
  out += name;
  AppendLabels(out, names, values);
  out += ' ';
  AppendMetricValue(out, s.Value());
  out += '\n';
}

uint64_t NextFamilyId() {
  static std::atomic<uint64_t> next{1};
  return next.fetch_add(1);
}

}  // namespace

void AppendMetricValue(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
  } else if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
  } else {
    char buf[32];
    auto r = std::to_chars(buf, buf + sizeof buf, v);
    out.append(buf, r.ptr);
  }
}

Histogram::Histogram(const std::vector<double>* bounds)
    : bounds_(bounds), buckets_(new std::atomic<uint64_t>[bounds->size() + 1]) {
  for (size_t i = 0; i <= bounds_->size(); ++i) buckets_[i] = 0;
}

void Histogram::Observe(double v) {
  size_t i = 0;
  while (i < bounds_->size() && v > (*bounds_)[i]) ++i;
  buckets_[i].fetch_add(1, std::memory_order_relaxed);
  sum_.fetch_add(v, std::memory_order_relaxed);
  count_.fetch_add(1, std::memory_order_relaxed);
}

const std::vector<double>& DefaultLatencyBuckets() {
  static const std::vector<double> kBuckets = {0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025,
                                               0.005,   0.01,   0.025,   0.05,   0.1,   0.25,
                                               0.5,     1,      2.5,     5,      10};
  return kBuckets;
}

template <typename T>
Family<T>::Family(std::string name, std::string help, MetricType type,
                  std::vector<std::string> labels, std::vector<double> bounds)
    : id_(NextFamilyId()),
      name_(std::move(name)),
      help_(std::move(help)),
      type_(type),
      label_names_(std::move(labels)),
      bounds_(std::move(bounds)) {}

template <typename T>
T& Family<T>::Labels(const std::vector<std::string_view>& values) {
  thread_local std::string key;
  key.clear();
  for (size_t i = 0; i < values.size(); ++i) {
    if (i) key += '\x1f';
    key += values[i];
  }
  // Per-thread cache: (family, key) -> series. Series are never freed, so the
  // cached pointer stays valid; only a miss takes the family's mutex.
  thread_local std::unordered_map<uint64_t, std::unordered_map<std::string, void*>> cache;
  auto& per_family = cache[id_];
  auto it = per_family.find(key);
  if (it != per_family.end()) return *static_cast<T*>(it->second);
  T& series = Create(key, values);
  per_family.emplace(key, &series);
  return series;
}

template <typename T>
T& Family<T>::Create(const std::string& key, const std::vector<std::string_view>& values) {
  std::lock_guard lock(mu_);
  auto it = series_.find(key);
  if (it == series_.end()) {
    std::vector<std::string> owned(values.begin(), values.end());
    owned.resize(label_names_.size());  // a missing value renders as ""
    std::unique_ptr<T> s;
    if constexpr (std::is_same_v<T, Histogram>) {
      s = std::make_unique<T>(&bounds_);
    } else {
      s = std::make_unique<T>();
    }
    it = series_.emplace(key, std::make_pair(std::move(owned), std::move(s))).first;
  }
  return *it->second.second;
}

template <typename T>
void Family<T>::Render(std::string& out) const {
  AppendHeader(out, name_, help_, type_);
  std::lock_guard lock(mu_);
  for (const auto& [key, entry] : series_) {
    const auto& [values, series] = entry;
    if constexpr (std::is_same_v<T, Histogram>) {
      uint64_t cumulative = 0;
      for (size_t i = 0; i <= bounds_.size(); ++i) {
        cumulative += series->BucketCount(i);
        std::string le;
        if (i == bounds_.size()) {
          le = "+Inf";
        } else {
          AppendMetricValue(le, bounds_[i]);
        }
        out += name_ + "_bucket";
        AppendLabels(out, label_names_, values, "le", le);
        out += ' ' + std::to_string(cumulative) + '\n';
      }
      out += name_ + "_sum";
      AppendLabels(out, label_names_, values);
      out += ' ';
      AppendMetricValue(out, series->Sum());
      out += '\n' + name_ + "_count";
      AppendLabels(out, label_names_, values);
      out += ' ' + std::to_string(series->Count()) + '\n';
    } else {
      RenderSeries(out, name_, label_names_, values, *series);
    }
  }
}

template <typename T>
void Family<T>::ForEach(
    const std::function<void(const std::vector<std::string>&, const T&)>& fn) const {
  std::lock_guard lock(mu_);
  for (const auto& [key, entry] : series_) fn(entry.first, *entry.second);
}

template class Family<Counter>;
template class Family<Gauge>;
template class Family<Histogram>;

Family<Counter>* MetricsRegistry::AddCounter(std::string name, std::string help,
                                             std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  counters_.push_back(std::make_unique<Family<Counter>>(std::move(name), std::move(help),
                                                        MetricType::kCounter, std::move(labels)));
  auto* f = counters_.back().get();
  renderers_.push_back([f](std::string& out) { f->Render(out); });
  return f;
}

Family<Gauge>* MetricsRegistry::AddGauge(std::string name, std::string help,
                                         std::vector<std::string> labels) {
  std::lock_guard lock(mu_);
  gauges_.push_back(std::make_unique<Family<Gauge>>(std::move(name), std::move(help),
                                                    MetricType::kGauge, std::move(labels)));
  auto* f = gauges_.back().get();
  renderers_.push_back([f](std::string& out) { f->Render(out); });
  return f;
}

Family<Histogram>* MetricsRegistry::AddHistogram(std::string name, std::string help,
                                                 std::vector<std::string> labels,
                                                 std::vector<double> bounds) {
  std::lock_guard lock(mu_);
  histograms_.push_back(std::make_unique<Family<Histogram>>(std::move(name), std::move(help),
                                                            MetricType::kHistogram,
                                                            std::move(labels), std::move(bounds)));
  auto* f = histograms_.back().get();
  renderers_.push_back([f](std::string& out) { f->Render(out); });
  return f;
}

void MetricsRegistry::AddCallback(std::string name, std::string help, MetricType type,
                                  std::function<double()> read) {
  std::lock_guard lock(mu_);
  callbacks_.push_back(std::make_unique<CallbackMetric>(
      CallbackMetric{std::move(name), std::move(help), type, std::move(read)}));
  const CallbackMetric* m = callbacks_.back().get();
  renderers_.push_back([m](std::string& out) {
    AppendHeader(out, m->name, m->help, m->type);
    out += m->name + ' ';
    AppendMetricValue(out, m->read());
    out += '\n';
  });
}

const Family<Counter>* MetricsRegistry::FindCounter(std::string_view name) const {
  std::lock_guard lock(mu_);
  for (const auto& f : counters_) {
    if (f->name() == name) return f.get();
  }
  return nullptr;
}

const Family<Histogram>* MetricsRegistry::FindHistogram(std::string_view name) const {
  std::lock_guard lock(mu_);
  for (const auto& f : histograms_) {
    if (f->name() == name) return f.get();
  }
  return nullptr;
}

std::string MetricsRegistry::Render() const {
  std::lock_guard lock(mu_);
  std::string out;
  out.reserve(16384);
  for (const auto& r : renderers_) r(out);
  return out;
}

}  // namespace closedloop
