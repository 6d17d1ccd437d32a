// Proxy: the gateway role's forwarding. Every request that is not the gateway's
// own (/v2/health/*, /metrics) goes to one of the inference upstreams:
//
// - Balancing: least outstanding tries among the healthy upstreams whose
//   circuit breaker admits a try (ties broken by rotation). When none is healthy
//   every upstream is a candidate again (the health checks may be what is wrong);
//   when no breaker admits a try the answer is 503 with Retry-After.
// - Connections: HTTP/1.1 keep-alive, pooled per upstream and io thread, and
//   pipelined (gateway/upstream_connection.h): a request joins the connection whose
//   write has yet to start (the requests of one io-loop turn go in one write), else
//   the least loaded one with fewer than pipeline_depth requests, else a new one.
//   Requests that are not idempotent go alone. At most max_idle_per_upstream empty
//   connections are kept; an empty one the upstream closed is noticed before use.
// - Timeouts: `try_timeout_ms` for one try (connect to last byte) and
//   `timeout_ms` for the request; 504 when they pass.
// - Retries: one, on another upstream, when a try failed (no connection, reset,
//   timeout, or 502/503/504) — for idempotent requests (GET/HEAD and the predict
//   and infer routes), or for any request that never reached the upstream (the
//   connection failed) — and only within the RetryBudget. A reused connection
//   that ends or is reset before its answer (closed by the replica while idle) is
//   tried once more on a new connection to the same upstream, outside the budget.
// - Headers: hop-by-hop headers are dropped; X-Forwarded-For/-Proto added;
//   `traceparent` carries the gateway's span, so the replica's spans join the
//   caller's trace. The answer keeps the upstream's X-Request-Id (the id its
//   prediction was logged under) and adds X-Gateway-Request-Id.
//
// Thread safety: Forward from any io thread; a request's I/O runs on its
// connection's io thread (RequestContext::executor). No lock on the request path
// (atomics, per-thread pools; the breaker locks only in half-open/transitions).
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/config.h"
#include "gateway/retry_budget.h"
#include "gateway/upstream.h"
#include "http/router.h"
#include "monitor/metrics.h"

namespace closedloop {

class ProxyCall;

class Proxy {
 public:
  // `clock` and `metrics` must outlive the proxy; the proxy must outlive the
  // server that calls it.
  Proxy(const GatewayConfig& config, std::vector<std::unique_ptr<Upstream>> upstreams,
        MetricsRegistry& metrics, const Clock& clock);
  ~Proxy();

  // Forwards every method on every path the router has no other route for.
  void Register(Router& router);
  void Forward(RequestContext& ctx);

  std::vector<Upstream*> upstreams() const;
  size_t HealthyCount() const;

 private:
  friend class ProxyCall;
  // The upstream for the next try (its breaker ticket in `ticket`), or null.
  Upstream* Pick(std::span<Upstream* const> tried, CircuitBreaker::Ticket& ticket);
  size_t IndexOf(const Upstream* u) const;

  const GatewayConfig config_;
  const std::vector<std::unique_ptr<Upstream>> upstreams_;
  const Clock& clock_;
  const uint64_t id_;  // tells this proxy's pooled connections from another's
  RetryBudget budget_;
  const std::vector<std::string> host_lines_;  // per upstream: its Host field and the blank line
  std::atomic<uint64_t> rotation_{0};
  Family<Counter>* retries_;
  Counter& no_upstream_;
};

}  // namespace closedloop
