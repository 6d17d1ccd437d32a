// Upstream: one inference replica as the gateway sees it — its address, the
// requests outstanding on it (for least-outstanding balancing), its health (set
// by the HealthChecker), its circuit breaker and its metrics.
//
// Metrics, labelled {upstream="HOST:PORT"}:
//   closedloop_upstream_requests_total{upstream,code}   tries by answer class
//                                                       (2xx..5xx, or "error")
//   closedloop_upstream_errors_total{upstream,kind}     connect, reset, timeout, status
//   closedloop_upstream_request_duration_seconds{upstream}
//   closedloop_upstream_outstanding{upstream}           tries in flight
//   closedloop_upstream_healthy{upstream}               1 / 0 (active health checks)
//   closedloop_upstream_breaker_state{upstream}         0 closed, 1 open, 2 half-open
//   closedloop_upstream_breaker_transitions_total{upstream,to}
//
// Thread safety: every member is safe from any thread (atomics; the breaker is
// thread-safe). Created at start-up, never destroyed while serving.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <boost/asio/ip/tcp.hpp>

#include "core/clock.h"
#include "core/config.h"
#include "core/status.h"
#include "gateway/circuit_breaker.h"
#include "monitor/metrics.h"

namespace closedloop {

struct UpstreamMetricFamilies {
  static UpstreamMetricFamilies Register(MetricsRegistry& metrics);
  Family<Counter>* requests;
  Family<Counter>* errors;
  Family<Histogram>* duration;
  Family<Gauge>* outstanding;
  Family<Gauge>* healthy;
  Family<Gauge>* breaker_state;
  Family<Counter>* breaker_transitions;
};

class Upstream {
 public:
  // `url`: http://IP:PORT (a name is resolved once, here). `clock` and the
  // families must outlive the upstream.
  static StatusOr<std::unique_ptr<Upstream>> Create(const std::string& url,
                                                    const GatewayConfig& config, const Clock& clock,
                                                    const UpstreamMetricFamilies& families);

  const std::string& name() const { return name_; }  // "HOST:PORT"
  const boost::asio::ip::tcp::endpoint& endpoint() const { return endpoint_; }
  CircuitBreaker& breaker() { return breaker_; }

  int64_t outstanding() const { return outstanding_.load(std::memory_order_relaxed); }
  void BeginTry();
  // `code`: the answer's status, 0 when there was none (then `error_kind` says why).
  void EndTry(unsigned code, const char* error_kind, double seconds);

  bool healthy() const { return healthy_.load(std::memory_order_relaxed); }
  void SetHealthy(bool healthy);

 private:
  Upstream(std::string name, boost::asio::ip::tcp::endpoint endpoint,
           const CircuitBreakerOptions& options, const Clock& clock,
           const UpstreamMetricFamilies& families);

  const std::string name_;
  const boost::asio::ip::tcp::endpoint endpoint_;
  std::atomic<int64_t> outstanding_{0};
  std::atomic<bool> healthy_{true};
  std::array<Counter*, 6> requests_;  // 1xx..5xx, error
  Family<Counter>* errors_;
  Histogram& duration_;
  Gauge& outstanding_gauge_;
  Gauge& healthy_gauge_;
  Gauge& breaker_gauge_;
  CircuitBreaker breaker_;  // last: its callback uses the members above
};

CircuitBreakerOptions BreakerOptionsFrom(const GatewayConfig& config);

}  // namespace closedloop
