#include "gateway/upstream.h"

#include <boost/asio/io_context.hpp>

#include "core/logging.h"
#include "http/http_client.h"

namespace closedloop {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

UpstreamMetricFamilies UpstreamMetricFamilies::Register(MetricsRegistry& m) {
  UpstreamMetricFamilies f;
  f.requests = m.AddCounter("closedloop_upstream_requests_total",
                            "Tries forwarded to an upstream, by answer class (or error).",
                            {"upstream", "code"});
  f.errors =
      m.AddCounter("closedloop_upstream_errors_total",
                   "Failed tries by kind: connect, reset, timeout, status (502/503/504), stale "
                   "(a reused connection the replica had closed; tried again).",
                   {"upstream", "kind"});
  f.duration =
      m.AddHistogram("closedloop_upstream_request_duration_seconds",
                     "Time of one try on an upstream, connect to last byte.", {"upstream"});
  f.outstanding = m.AddGauge("closedloop_upstream_outstanding", "Tries in flight on an upstream.",
                             {"upstream"});
  f.healthy = m.AddGauge("closedloop_upstream_healthy",
                         "1 while the upstream passes its active health checks.", {"upstream"});
  f.breaker_state =
      m.AddGauge("closedloop_upstream_breaker_state",
                 "Circuit breaker of an upstream: 0 closed, 1 open, 2 half-open.", {"upstream"});
  f.breaker_transitions =
      m.AddCounter("closedloop_upstream_breaker_transitions_total",
                   "Circuit breaker transitions by the state entered.", {"upstream", "to"});
  return f;
}

CircuitBreakerOptions BreakerOptionsFrom(const GatewayConfig& c) {
  CircuitBreakerOptions o;
  o.consecutive_failures = c.breaker_consecutive_failures;
  o.failure_rate = c.breaker_failure_rate;
  o.min_requests = c.breaker_min_requests;
  o.window = std::chrono::milliseconds(c.breaker_window_ms);
  o.open = std::chrono::milliseconds(c.breaker_open_ms);
  o.max_open = std::chrono::milliseconds(c.breaker_max_open_ms);
  o.close_successes = c.breaker_close_successes;
  return o;
}

StatusOr<std::unique_ptr<Upstream>> Upstream::Create(const std::string& url,
                                                     const GatewayConfig& config,
                                                     const Clock& clock,
                                                     const UpstreamMetricFamilies& families) {
  auto parsed = ParseHttpUrl(url);
  if (!parsed.ok()) {
    return InvalidArgument("upstream '" + url + "': " + parsed.status().message());
  }
  if (parsed->target != "/") {
    return InvalidArgument("upstream '" + url + "' must be http://HOST:PORT without a path");
  }
  asio::io_context ioc;
  tcp::resolver resolver(ioc);
  boost::system::error_code ec;
  auto results = resolver.resolve(parsed->host, parsed->port, ec);
  if (ec || results.empty()) {
    return InvalidArgument("upstream '" + url + "': cannot resolve '" + parsed->host +
                           "': " + ec.message());
  }
  return std::unique_ptr<Upstream>(new Upstream(parsed->host + ":" + parsed->port,
                                                results.begin()->endpoint(),
                                                BreakerOptionsFrom(config), clock, families));
}

Upstream::Upstream(std::string name, tcp::endpoint endpoint, const CircuitBreakerOptions& options,
                   const Clock& clock, const UpstreamMetricFamilies& f)
    : name_(std::move(name)),
      endpoint_(std::move(endpoint)),
      requests_{&f.requests->Labels({name_, "1xx"}), &f.requests->Labels({name_, "2xx"}),
                &f.requests->Labels({name_, "3xx"}), &f.requests->Labels({name_, "4xx"}),
                &f.requests->Labels({name_, "5xx"}), &f.requests->Labels({name_, "error"})},
      errors_(f.errors),
      duration_(f.duration->Labels({name_})),
      outstanding_gauge_(f.outstanding->Labels({name_})),
      healthy_gauge_(f.healthy->Labels({name_})),
      breaker_gauge_(f.breaker_state->Labels({name_})),
      breaker_(options, clock,
               [this, transitions = f.breaker_transitions](CircuitBreaker::State from,
                                                           CircuitBreaker::State to) {
                 breaker_gauge_.Set(static_cast<double>(to));
                 transitions->Labels({name_, BreakerStateName(to)}).Inc();
                 LogLine(
                     to == CircuitBreaker::State::kOpen ? spdlog::level::warn : spdlog::level::info,
                     "circuit breaker")
                     .Kv("upstream", name_)
                     .Kv("from", BreakerStateName(from))
                     .Kv("to", BreakerStateName(to));
               }) {
  healthy_gauge_.Set(1);
}

void Upstream::BeginTry() {
  outstanding_.fetch_add(1, std::memory_order_relaxed);
  outstanding_gauge_.Add(1);
}

void Upstream::EndTry(unsigned code, const char* error_kind, double seconds) {
  outstanding_.fetch_sub(1, std::memory_order_relaxed);
  outstanding_gauge_.Add(-1);
  duration_.Observe(seconds);
  requests_[code >= 100 && code < 600 ? code / 100 - 1 : 5]->Inc();
  if (error_kind != nullptr) errors_->Labels({name_, error_kind}).Inc();
}

void Upstream::SetHealthy(bool healthy) {
  if (healthy_.exchange(healthy) == healthy) return;
  healthy_gauge_.Set(healthy ? 1 : 0);
  LogLine(healthy ? spdlog::level::info : spdlog::level::warn,
          healthy ? "upstream healthy" : "upstream unhealthy")
      .Kv("upstream", name_);
}

}  // namespace closedloop
