#include "monitor/metrics.h"

#include <gtest/gtest.h>

#include <thread>

namespace closedloop {
namespace {

TEST(MetricsTest, CounterWithLabelsRendersPrometheusText) {
  MetricsRegistry r;
  auto* f = r.AddCounter("x_requests_total", "Requests.", {"route", "code"});
  f->Labels({"/v1/predict", "200"}).Inc();
  f->Labels({"/v1/predict", "200"}).Inc(2);
  f->Labels({"/a\"b\\c\nd", "404"}).Inc();
  std::string text = r.Render();
  EXPECT_NE(text.find("# HELP x_requests_total Requests.\n# TYPE x_requests_total counter\n"),
            std::string::npos);
  EXPECT_NE(text.find("x_requests_total{route=\"/v1/predict\",code=\"200\"} 3\n"),
            std::string::npos);
  EXPECT_NE(text.find("x_requests_total{route=\"/a\\\"b\\\\c\\nd\",code=\"404\"} 1\n"),
            std::string::npos);
}

TEST(MetricsTest, HistogramBucketsAreCumulative) {
  MetricsRegistry r;
  auto& h = r.AddHistogram("x_seconds", "Latency.", {}, {0.1, 1})->Labels({});
  h.Observe(0.05);
  h.Observe(0.5);
  h.Observe(5);
  std::string text = r.Render();
  EXPECT_NE(text.find("x_seconds_bucket{le=\"0.1\"} 1\n"), std::string::npos);
  EXPECT_NE(text.find("x_seconds_bucket{le=\"1\"} 2\n"), std::string::npos);
  EXPECT_NE(text.find("x_seconds_bucket{le=\"+Inf\"} 3\n"), std::string::npos);
  EXPECT_NE(text.find("x_seconds_sum 5.55\n"), std::string::npos);
  EXPECT_NE(text.find("x_seconds_count 3\n"), std::string::npos);
}

TEST(MetricsTest, CallbackAndGauge) {
  MetricsRegistry r;
  r.AddCallback("x_fds", "Fds.", MetricType::kGauge, [] { return 7.0; });
  r.AddGauge("x_depth", "Depth.", {})->Labels({}).Set(3);
  std::string text = r.Render();
  EXPECT_NE(text.find("x_fds 7\n"), std::string::npos);
  EXPECT_NE(text.find("x_depth 3\n"), std::string::npos);
}

TEST(MetricsTest, ConcurrentIncrementsAreAllCounted) {
  MetricsRegistry r;
  auto* f = r.AddCounter("x_total", "X.", {"t"});
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([f] {
      for (int i = 0; i < 10000; ++i) f->Labels({"same"}).Inc();
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(f->Labels({"same"}).Value(), 40000);
}

TEST(MetricsTest, NewRegistryNeverSeesStaleCachedSeries) {
  // Families of a destroyed registry may be reallocated at the same address;
  // the per-thread cache must not hand out their series.
  for (int i = 0; i < 50; ++i) {
    MetricsRegistry r;
    auto* f = r.AddCounter("x_total", "X.", {"t"});
    f->Labels({"a"}).Inc();
    EXPECT_EQ(f->Labels({"a"}).Value(), 1);
  }
}

}  // namespace
}  // namespace closedloop
