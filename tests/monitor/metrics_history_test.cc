// The overview's history: per-interval request and error counts, rates and
// latency quantiles from the live metrics, bounded in memory.
#include "monitor/metrics_history.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

namespace closedloop {
namespace {

TEST(HistogramQuantileTest, InterpolatesInsideTheBucketAsPrometheusDoes) {
  const std::vector<double> bounds = {0.1, 0.2, 0.4};
  // 10 in (0, 0.1], 10 in (0.1, 0.2], none above.
  std::vector<uint64_t> counts = {10, 10, 0, 0};
  EXPECT_DOUBLE_EQ(*HistogramQuantile(bounds, counts, 0.5), 0.1);
  EXPECT_DOUBLE_EQ(*HistogramQuantile(bounds, counts, 0.25), 0.05);
  EXPECT_DOUBLE_EQ(*HistogramQuantile(bounds, counts, 0.75), 0.15);
  EXPECT_DOUBLE_EQ(*HistogramQuantile(bounds, counts, 1.0), 0.2);
  // A quantile in the +Inf bucket is the last bound.
  EXPECT_DOUBLE_EQ(*HistogramQuantile(bounds, {0, 0, 0, 5}, 0.99), 0.4);
  EXPECT_FALSE(HistogramQuantile(bounds, {0, 0, 0, 0}, 0.5).has_value());
}

class MetricsHistoryTest : public ::testing::Test {
 protected:
  MetricsHistoryTest() {
    config_.routes = {"/v1/predict"};
    config_.history_points = 3;
    requests_ = metrics_.AddCounter("closedloop_requests_total", "answers",
                                    {"route", "method", "model", "version", "code"});
    seconds_ = metrics_.AddHistogram("closedloop_request_duration_seconds", "latency", {"route"});
  }
  void Answer(const char* route, const char* code, double seconds) {
    requests_->Labels({route, "POST", "m", "1", code}).Inc();
    seconds_->Labels({route}).Observe(seconds);
  }
  SloConfig config_;
  MetricsRegistry metrics_;
  FakeClock clock_;
  Family<Counter>* requests_;
  Family<Histogram>* seconds_;
};

TEST_F(MetricsHistoryTest, EachPointHoldsTheIncreaseOfItsIntervalOnTheSloRoutes) {
  MetricsHistory h(config_, metrics_, clock_);
  Answer("/v1/predict", "200", 0.001);
  h.Sample();  // baseline: what came before is not a point
  EXPECT_TRUE(h.Points(0).empty());
  for (int i = 0; i < 8; ++i) Answer("/v1/predict", "200", 0.001);
  Answer("/v1/predict", "503", 0.2);
  Answer("/v1/predict", "500", 0.2);
  Answer("/metrics", "500", 0.2);  // not an SLO route
  clock_.Advance(std::chrono::seconds(2));
  h.Sample();
  auto p = h.Points(0);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_EQ(p[0].requests, 10);
  EXPECT_EQ(p[0].errors, 2);
  EXPECT_DOUBLE_EQ(p[0].interval_s, 2.0);
  EXPECT_DOUBLE_EQ(p[0].rate_per_s, 5.0);
  EXPECT_DOUBLE_EQ(*p[0].error_rate, 0.2);
  ASSERT_TRUE(p[0].p50_ms && p[0].p99_ms);
  EXPECT_LE(*p[0].p50_ms, 1.0);    // 8 of 10 answers took 1 ms
  EXPECT_GT(*p[0].p99_ms, 100.0);  // the slow ones
  EXPECT_LE(*p[0].p99_ms, 250.0);
  // An idle interval: no requests, no rates to divide.
  clock_.Advance(std::chrono::seconds(1));
  h.Sample();
  p = h.Points(0);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[1].requests, 0);
  EXPECT_FALSE(p[1].error_rate.has_value());
  EXPECT_FALSE(p[1].p99_ms.has_value());
}

TEST_F(MetricsHistoryTest, KeepsTheNewestPointsAndFiltersByTime) {
  MetricsHistory h(config_, metrics_, clock_);
  h.Sample();
  std::vector<int64_t> times;
  for (int i = 0; i < 5; ++i) {
    Answer("/v1/predict", "200", 0.001);
    clock_.Advance(std::chrono::seconds(10));
    times.push_back(clock_.NowUnixMillis());
    h.Sample();
  }
  auto p = h.Points(0);
  ASSERT_EQ(p.size(), 3u);  // history_points
  EXPECT_EQ(p.front().ts_ms, times[2]);
  EXPECT_EQ(p.back().ts_ms, times[4]);
  EXPECT_EQ(h.Points(times[3]).size(), 2u);
  EXPECT_EQ(h.Points(times[4] + 1).size(), 0u);
  const std::string json = MetricsHistoryJson(h.interval_ms(), h.Points(times[4]));
  EXPECT_NE(json.find("\"requests\":1"), std::string::npos) << json;
  EXPECT_NE(json.find("\"interval_ms\":10000"), std::string::npos) << json;
}

TEST_F(MetricsHistoryTest, TheBackgroundThreadSamplesUntilStopped) {
  config_.history_interval_ms = 10;
  MetricsHistory h(config_, metrics_, clock_);
  h.Start();
  // Points appear as the thread samples (the fake clock stands still: interval 1 ms).
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (h.Points(0).empty() && std::chrono::steady_clock::now() < deadline) {
    Answer("/v1/predict", "200", 0.001);
    std::this_thread::yield();
  }
  h.Stop();
  EXPECT_FALSE(h.Points(0).empty());
}

}  // namespace
}  // namespace closedloop
