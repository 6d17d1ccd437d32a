#include "gateway/proxy.h"

#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <optional>
#include <unordered_map>

#include <boost/asio/io_context.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "core/logging.h"
#include "core/trace_context.h"
#include "gateway/upstream_connection.h"
#include "gateway/upstream_response_parser.h"
#include "http/request_context.h"

namespace closedloop {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using SteadyTime = std::chrono::steady_clock::time_point;

namespace {

std::atomic<uint64_t> next_proxy_id{1};

using TryTimer = asio::basic_waitable_timer<std::chrono::steady_clock,
                                            asio::wait_traits<std::chrono::steady_clock>,
                                            asio::io_context::executor_type>;

// Below this idle time an empty pooled connection is used without the liveness
// check: the replica closes idle keep-alive connections after seconds, not
// milliseconds, and a connection that fails anyway is retried like any failed try.
constexpr auto kCheckIdleAfter = std::chrono::milliseconds(1000);

// The upstream connections of the io thread that made them, by proxy and
// upstream. Only that thread touches them (their sockets run on its io_context),
// and they close when the thread ends, before its io_context is destroyed.
thread_local std::unordered_map<uint64_t, std::vector<std::shared_ptr<UpstreamConnection>>>
    connection_pool;

uint64_t PoolKey(uint64_t proxy_id, size_t upstream_index) {
  return proxy_id << 16 | static_cast<uint64_t>(upstream_index);
}

bool Idempotent(const HttpRequest& req) {
  if (req.method() == http::verb::get || req.method() == http::verb::head) return true;
  if (req.method() != http::verb::post) return false;
  std::string_view target = req.target();
  std::string_view path = target.substr(0, target.find('?'));
  // A prediction has no side effect a second try could repeat harmfully: the
  // replica that answers logs it under the id it returns.
  return path == "/v1/predict" || path == "/v1/inference" ||
         (path.starts_with("/v2/models/") && path.size() > 6 &&
          path.substr(path.size() - 6) == "/infer");
}

struct Answer {
  unsigned status = 502;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  SteadyTime start, end;
};

}  // namespace

// One forwarded request: its tries, on the connection's io thread.
class ProxyCall final : public UpstreamExchange, public std::enable_shared_from_this<ProxyCall> {
 public:
  ProxyCall(Proxy& proxy, RequestContext& ctx, std::shared_ptr<DeferredResponse> deferred)
      : proxy_(proxy),
        ioc_(static_cast<asio::io_context&>(asio::query(ctx.executor, asio::execution::context))),
        timer_(ioc_.get_executor()),
        deferred_(std::move(deferred)),
        idempotent_(Idempotent(ctx.request)),
        start_(proxy.clock_.MonotonicNow()),
        deadline_(start_ + std::chrono::milliseconds(proxy.config_.timeout_ms)) {
    // The request is serialized once, by hand, into one buffer: one write per try
    // without a scatter list of every header field. Host is the upstream's, per try.
    const HttpRequest& in = ctx.request;
    method_ = in.method();
    head_.reserve(256 + in.body().size());
    head_.append(in.method_string()).append(" ").append(in.target()).append(" HTTP/1.1\r\n");
    std::string_view forwarded_for;
    for (const auto& f : in) {
      if (IsHopByHopField(f.name()) || f.name() == http::field::host ||
          f.name() == http::field::expect) {
        continue;
      }
      if (beast::iequals(f.name_string(), "traceparent")) continue;
      if (beast::iequals(f.name_string(), "X-Forwarded-For")) {
        forwarded_for = f.value();
        continue;
      }
      head_.append(f.name_string()).append(": ").append(f.value()).append("\r\n");
    }
    head_.append("X-Forwarded-For: ").append(forwarded_for);
    if (!forwarded_for.empty()) head_.append(", ");
    head_.append(ctx.client_ip).append("\r\nX-Forwarded-Proto: http\r\ntraceparent: ");
    head_.append(FormatTraceparent(ctx.trace.trace_id, ctx.trace.span_id, ctx.trace.sampled));
    if (!in.body().empty() || method_ == http::verb::post || method_ == http::verb::put ||
        method_ == http::verb::patch) {
      head_.append("\r\nContent-Length: ").append(std::to_string(in.body().size()));
    }
    head_.append("\r\n");
    body_ = in.body();  // the request outlives the call: it is answered by Finish()
  }

  void Start() {
    proxy_.budget_.OnFirstTry();
    if (!NextTry()) {
      proxy_.no_upstream_.Inc();
      Answer a;
      a.status = 503;
      a.body = ErrorBody(
          "no upstream can take the request: every replica is unhealthy or its "
          "circuit breaker is open");
      a.headers.emplace_back("Retry-After", "1");
      Finish(std::move(a));
    }
  }

 private:
  // Starts a try on the next upstream; false when there is none.
  bool NextTry() {
    upstream_ = proxy_.Pick(std::span<Upstream* const>(tried_.data(), tries_), ticket_);
    if (upstream_ == nullptr) return false;
    tried_[tries_++] = upstream_;
    upstream_index_ = proxy_.IndexOf(upstream_);
    StartTry(false);
    return true;
  }

  // A try on upstream_ (its breaker ticket in ticket_); `fresh`: on a new connection.
  void StartTry(bool fresh) {
    upstream_->BeginTry();
    try_start_ = proxy_.clock_.MonotonicNow();
    sent_ = false;
    const SteadyTime try_deadline =
        std::min(deadline_, try_start_ + std::chrono::milliseconds(proxy_.config_.try_timeout_ms));
    const auto timeout = std::max(std::chrono::steady_clock::duration(std::chrono::milliseconds(1)),
                                  try_deadline - try_start_);
    ArmTimer(timeout);
    conn_ = fresh ? NewConnection() : Connection();
    conn_->Add(shared_from_this(), !idempotent_);
  }

  std::shared_ptr<UpstreamConnection> NewConnection() {
    auto& conns = connection_pool[PoolKey(proxy_.id_, upstream_index_)];
    reused_ = false;
    conns.push_back(UpstreamConnection::Open(ioc_, upstream_->endpoint(), proxy_.clock_));
    return conns.back();
  }

  // The connection for this try: one whose write has yet to start, which the
  // request joins (one write for the requests of one turn of the io loop); else
  // the least loaded one that takes it; else a new one. Broken connections,
  // empty ones beyond max_idle_per_upstream, and an empty one the replica closed
  // while it was idle are dropped on the way.
  std::shared_ptr<UpstreamConnection> Connection() {
    auto& conns = connection_pool[PoolKey(proxy_.id_, upstream_index_)];
    const bool alone = !idempotent_;
    const size_t depth = proxy_.config_.pipeline_depth;
    for (;;) {
      constexpr size_t kNone = static_cast<size_t>(-1);
      size_t best = kNone;
      size_t empty = 0;
      for (size_t i = 0; i < conns.size();) {
        UpstreamConnection& c = *conns[i];
        if (c.broken() || (c.load() == 0 && ++empty > proxy_.config_.max_idle_per_upstream)) {
          c.Abort();  // nothing on it: no request fails
          conns[i] = std::move(conns.back());
          conns.pop_back();
          continue;
        }
        if (c.Accepts(alone, depth)) {
          if (!alone && c.has_unsent()) {
            best = i;
            break;
          }
          if (best == kNone || c.load() < conns[best]->load()) best = i;
        }
        ++i;
      }
      if (best == kNone) break;
      UpstreamConnection& c = *conns[best];
      if (c.load() > 0 || try_start_ - c.idle_since() < kCheckIdleAfter || c.StillOpen()) {
        reused_ = true;
        return conns[best];
      }
      c.Abort();
      conns[best] = std::move(conns.back());
      conns.pop_back();
    }
    return NewConnection();
  }

  // UpstreamExchange: what the connection sends, reads and reports for this try.
  void AppendWire(std::vector<asio::const_buffer>& wire) override {
    wire.push_back(asio::buffer(head_));
    wire.push_back(asio::buffer(proxy_.host_lines_[upstream_index_]));
    if (!body_.empty()) wire.push_back(asio::buffer(body_.data(), body_.size()));
  }

  UpstreamResponseParser& StartAnswer() override {
    parser_.emplace();
    parser_->body_limit(proxy_.config_.max_response_bytes);
    if (method_ == http::verb::head) parser_->skip(true);
    return *parser_;
  }

  void OnSent() override { sent_ = true; }
  void OnAnswer() override { OnResponse(); }
  void OnFailure(const beast::error_code& ec, const char* what) override { Fail(ec, what); }

  double TrySeconds() const {
    return std::chrono::duration<double>(proxy_.clock_.MonotonicNow() - try_start_).count();
  }

  // One timer per try (connect to last byte) instead of one per socket operation:
  // when it fires the connection is closed, and the pending operation fails
  // (operation_aborted), reported as a timeout.
  void ArmTimer(std::chrono::steady_clock::duration timeout) {
    try_over_ = false;
    timed_out_ = false;
    timer_.expires_after(timeout);
    timer_.async_wait([self = shared_from_this(), attempt = tries_](beast::error_code ec) {
      if (ec || self->tries_ != attempt || self->try_over_ || !self->conn_) return;
      self->timed_out_ = true;
      std::shared_ptr<UpstreamConnection> conn = self->conn_;
      conn->Abort();  // fails this try, and any other on the connection
    });
  }

  void EndTry() {
    try_over_ = true;
    timer_.cancel();
  }

  void OnResponse() {
    EndTry();
    UpstreamResponseParser& res = *parser_;
    const unsigned status = res.status;
    const bool failed = status == 502 || status == 503 || status == 504;
    upstream_->EndTry(status, failed ? "status" : nullptr, TrySeconds());
    upstream_->breaker().Record(ticket_, !failed);
    conn_.reset();
    if (failed && MayRetry() && Retry()) return;
    Answer a;
    a.status = status;
    if (!res.content_type.empty()) a.content_type = std::move(res.content_type);
    a.headers = std::move(res.headers);
    a.body = std::move(res.body);
    Finish(std::move(a));
  }

  bool MayRetry() const {
    return tries_ < tried_.size() && (idempotent_ || !sent_) &&
           proxy_.clock_.MonotonicNow() < deadline_;
  }

  // A second try on another upstream, if the budget has a token and one is left.
  bool Retry() {
    if (!proxy_.budget_.TryRetry()) {
      proxy_.retries_->Labels({"budget_exhausted"}).Inc();
      return false;
    }
    if (!NextTry()) {
      proxy_.retries_->Labels({"no_other_upstream"}).Inc();
      return false;
    }
    proxy_.retries_->Labels({"retried"}).Inc();
    return true;
  }

  // A reused connection that ends or is reset before any byte of the answer was
  // most likely closed by the replica while it sat idle (its keep-alive timeout
  // may be shorter than the gateway's liveness check): the request never reached
  // it.
  static bool Stale(const beast::error_code& ec) {
    return ec == http::error::end_of_stream || ec == asio::error::eof ||
           ec == asio::error::connection_reset || ec == asio::error::broken_pipe;
  }

  void Fail(beast::error_code ec, const char* kind) {
    EndTry();
    const bool timeout = timed_out_;  // only the try's timer times a try out
    if (timeout) kind = "timeout";
    if (!timeout && reused_ && !stale_retried_ && (idempotent_ || !sent_) && Stale(ec) &&
        proxy_.clock_.MonotonicNow() < deadline_) {
      // Once per request, on a new connection to the same upstream: not the
      // upstream's failure (its breaker records the outcome of the new try), not
      // a retry (no budget, and the one retry on another upstream stays).
      stale_retried_ = true;
      upstream_->EndTry(0, "stale", TrySeconds());
      conn_.reset();
      StartTry(true);
      return;
    }
    upstream_->EndTry(0, kind, TrySeconds());
    upstream_->breaker().Record(ticket_, false);
    conn_.reset();
    LogDebug("upstream try failed")
        .Kv("upstream", upstream_->name())
        .Kv("kind", kind)
        .Kv("error", ec.message())
        .Kv("reused_connection", reused_);
    const std::string failed_upstream = upstream_->name();
    if (MayRetry() && Retry()) return;
    Answer a;
    a.status = timeout ? 504 : 502;
    a.body = ErrorBody(std::string(timeout ? "upstream timed out: " : "upstream failed: ") +
                       failed_upstream + " (" + kind + ": " + ec.message() + ")");
    Finish(std::move(a));
  }

  void Finish(Answer a) {
    a.start = start_;
    a.end = proxy_.clock_.MonotonicNow();
    auto shared = std::make_shared<Answer>(std::move(a));
    auto deferred = std::move(deferred_);
    deferred->Finish([shared](RequestContext& c) {
      c.status = shared->status;
      c.content_type = std::move(shared->content_type);
      c.body = std::move(shared->body);
      // Fields the gateway set itself (RateLimit-*) win over the replica's.
      const size_t own = c.headers.size();
      c.headers.reserve(own + shared->headers.size() + 1);
      for (auto& field : shared->headers) {
        const auto same = [&](const auto& o) { return beast::iequals(o.first, field.first); };
        if (std::none_of(c.headers.begin(), c.headers.begin() + own, same)) {
          c.headers.push_back(std::move(field));
        }
      }
      c.headers.emplace_back("X-Gateway-Request-Id", std::string(c.request_id));
      c.trace.Add("upstream", shared->start, shared->end);
    });
  }

  Proxy& proxy_;
  asio::io_context& ioc_;  // the connection's io thread's (every server executor is one's)
  TryTimer timer_;         // the try's deadline
  std::shared_ptr<DeferredResponse> deferred_;
  const bool idempotent_;
  const SteadyTime start_, deadline_;
  http::verb method_;
  std::string head_;       // request line and headers but Host, each line ending in CRLF
  std::string_view body_;  // the client's request body
  std::optional<UpstreamResponseParser> parser_;
  std::shared_ptr<UpstreamConnection> conn_;  // the try's
  bool try_over_ = false;                     // the try has its outcome; a late timer does nothing
  bool timed_out_ = false;                    // the timer closed the connection
  bool reused_ = false;
  bool stale_retried_ = false;  // a stale connection's try was made again once
  bool sent_ = false;
  Upstream* upstream_ = nullptr;
  size_t upstream_index_ = 0;  // upstream_'s place in the proxy (pool key, Host line)
  CircuitBreaker::Ticket ticket_ = CircuitBreaker::Ticket::kRejected;
  std::array<Upstream*, 2> tried_{};  // one try and one retry
  size_t tries_ = 0;
  SteadyTime try_start_;
};

Proxy::Proxy(const GatewayConfig& config, std::vector<std::unique_ptr<Upstream>> upstreams,
             MetricsRegistry& metrics, const Clock& clock)
    : config_(config),
      upstreams_(std::move(upstreams)),
      clock_(clock),
      id_(next_proxy_id.fetch_add(1)),
      budget_(config.retry_budget_ratio, config.retry_budget_min),
      host_lines_([this] {
        std::vector<std::string> lines;
        for (const auto& u : upstreams_) lines.push_back("Host: " + u->name() + "\r\n\r\n");
        return lines;
      }()),
      retries_(metrics.AddCounter(
          "closedloop_gateway_retries_total",
          "Failed tries followed by a retry on another upstream, or refused one (and why).",
          {"result"})),
      no_upstream_(metrics
                       .AddCounter("closedloop_gateway_no_upstream_total",
                                   "Requests answered 503: no upstream could take them.", {})
                       ->Labels({})) {}

Proxy::~Proxy() = default;

std::vector<Upstream*> Proxy::upstreams() const {
  std::vector<Upstream*> out;
  for (const auto& u : upstreams_) out.push_back(u.get());
  return out;
}

size_t Proxy::HealthyCount() const {
  return static_cast<size_t>(std::count_if(upstreams_.begin(), upstreams_.end(),
                                           [](const auto& u) { return u->healthy(); }));
}

size_t Proxy::IndexOf(const Upstream* u) const {
  for (size_t i = 0; i < upstreams_.size(); ++i) {
    if (upstreams_[i].get() == u) return i;
  }
  return 0;
}

Upstream* Proxy::Pick(std::span<Upstream* const> tried, CircuitBreaker::Ticket& ticket) {
  const size_t n = upstreams_.size();
  const size_t offset = static_cast<size_t>(rotation_.fetch_add(1, std::memory_order_relaxed));
  const bool any_healthy =
      std::any_of(upstreams_.begin(), upstreams_.end(), [](const auto& u) { return u->healthy(); });
  // Candidates by outstanding tries, fewest first; equal ones in rotating order.
  // Rounds over the candidates instead of sorting them: no allocation, and the
  // first candidate's breaker almost always admits the try.
  std::vector<bool> refused;  // by index; filled only when a breaker refused (rare)
  for (size_t round = 0; round < n; ++round) {
    Upstream* best = nullptr;
    size_t best_index = 0;
    for (size_t k = 0; k < n; ++k) {
      const size_t i = (offset + k) % n;
      Upstream* u = upstreams_[i].get();
      if (std::find(tried.begin(), tried.end(), u) != tried.end()) continue;
      if (any_healthy && !u->healthy()) continue;
      if (!refused.empty() && refused[i]) continue;
      if (best == nullptr || u->outstanding() < best->outstanding()) {
        best = u;
        best_index = i;
      }
    }
    if (best == nullptr) return nullptr;
    ticket = best->breaker().Allow();
    if (ticket != CircuitBreaker::Ticket::kRejected) return best;
    if (refused.empty()) refused.assign(n, false);
    refused[best_index] = true;
  }
  return nullptr;
}

void Proxy::Register(Router& router) {
  for (http::verb v : {http::verb::get, http::verb::post, http::verb::put, http::verb::delete_,
                       http::verb::patch, http::verb::head}) {
    // The replica judges the body (JSON, binary tensors, artifacts): any media type.
    router.Add(
        v, "/*", [this](RequestContext& ctx) { Forward(ctx); }, BodyMedia::kAny);
  }
}

void Proxy::Forward(RequestContext& ctx) {
  if (!ctx.executor) {  // not on a connection (cannot happen behind HttpServer)
    ctx.Error(Internal("the proxy needs the connection's io thread"));
    return;
  }
  auto deferred = ctx.Defer();
  if (!deferred) {
    ctx.Error(Internal("the proxy needs a deferrable response"));
    return;
  }
  std::make_shared<ProxyCall>(*this, ctx, std::move(deferred))->Start();
}

}  // namespace closedloop
