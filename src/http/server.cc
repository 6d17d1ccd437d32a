#include "http/server.h"

#include <sys/resource.h>

#include <charconv>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/logging.h"
#include "http/session.h"

namespace closedloop {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

bool IsJsonMediaType(std::string_view ct) {
  std::string_view media = ct.substr(0, ct.find(';'));
  while (!media.empty() && media.back() == ' ') media.remove_suffix(1);
  if (boost::beast::iequals(media, "application/json")) return true;
  return media.size() > 5 && boost::beast::iequals(media.substr(media.size() - 5), "+json");
}

bool HasBody(http::verb v) {
  return v == http::verb::post || v == http::verb::put || v == http::verb::patch;
}

// The status line and the fields every answer has, into `head` (cleared first).
void BeginHead(std::string& head, unsigned version, unsigned status) {
  head.clear();
  head.append(version == 10 ? "HTTP/1.0 " : "HTTP/1.1 ");
  char code[8];
  head.append(code,
              static_cast<size_t>(std::to_chars(code, code + sizeof code, status).ptr - code));
  head.push_back(' ');
  head.append(http::obsolete_reason(static_cast<http::status>(status)));
  head.append("\r\nServer: closedloop\r\n");
}

void AddField(std::string& head, std::string_view name, std::string_view value) {
  head.append(name).append(": ").append(value).append("\r\n");
}

// Content-Length (none for 1xx, 204 and 304, which have no body), the
// keep-alive field where the version needs one, and the blank line.
void EndHead(std::string& head, unsigned version, unsigned status, size_t body_size,
             bool keep_alive) {
  if (status >= 200 && status != 204 && status != 304) {
    char n[24];
    AddField(head, "Content-Length",
             std::string_view(
                 n, static_cast<size_t>(std::to_chars(n, n + sizeof n, body_size).ptr - n)));
  }
  if (version >= 11 && !keep_alive) head.append("Connection: close\r\n");
  if (version < 11 && keep_alive) head.append("Connection: keep-alive\r\n");
  head.append("\r\n");
}

}  // namespace

ServerShared::ServerShared(const ServerConfig& c, const Router& r, MetricsRegistry& m,
                           const Clock& clk)
    : config(c), router(r), clock(clk), ids(clk) {
  requests_total = m.AddCounter("closedloop_requests_total",
                                "HTTP requests by route, method, model, version and status code.",
                                {"route", "method", "model", "version", "code"});
  request_seconds =
      m.AddHistogram("closedloop_request_duration_seconds",
                     "Time from a request's complete arrival to its response.", {"route"});
  in_flight_gauge = &m.AddGauge("closedloop_http_requests_in_flight",
                                "Requests received and not yet answered.", {})
                         ->Labels({});
  connections_total =
      &m.AddCounter("closedloop_http_connections_total", "Accepted TCP connections.", {})
           ->Labels({});
  connections_open =
      &m.AddGauge("closedloop_http_connections_open", "Open TCP connections.", {})->Labels({});
  connection_errors = &m.AddCounter("closedloop_http_connection_errors_total",
                                    "Connections closed by timeout, parse error or reset.", {})
                           ->Labels({});
  pipelined_answers =
      &m.AddCounter("closedloop_http_pipelined_answers_total",
                    "Answers to pipelined requests written together with a later answer.", {})
           ->Labels({});
  websocket_paused =
      &m.AddGauge("closedloop_websocket_connections_paused",
                  "WebSocket connections not reading: their reply queue is full (backpressure).",
                  {})
           ->Labels({});
  websocket_open = &m.AddGauge("closedloop_websocket_connections_open",
                               "Open WebSocket connections (/v1/stream).", {})
                        ->Labels({});
  websocket_messages =
      &m.AddCounter("closedloop_websocket_messages_total", "WebSocket messages answered.", {})
           ->Labels({});
}

void ServerShared::ErrorResponse(unsigned status, std::string_view message, unsigned version,
                                 Exchange& ex) {
  std::string id = ids.Next();
  ex.status = status;
  ex.keep_alive = false;
  ex.body = ErrorBody(message);
  BeginHead(ex.head, version, status);
  AddField(ex.head, "Content-Type", "application/json");
  AddField(ex.head, "X-Request-Id", id);
  EndHead(ex.head, version, status, ex.body.size(), false);
  requests_total->Labels({"protocol", "", "", "", std::to_string(status)}).Inc();
  LogDebug("protocol error")
      .Kv("request_id", id)
      .Kv("status", static_cast<int64_t>(status))
      .Kv("error", message);
}

bool ServerShared::Dispatch(Exchange& ex,
                            const std::function<std::shared_ptr<DeferredResponse>()>& defer) {
  ex.start = clock.MonotonicNow();
  ex.request_id = ids.Next();
  HttpRequest& req = ex.request;
  RequestContext& ctx = ex.ctx.emplace(req, ex.request_id);
  ctx.defer_hook = defer;
  ctx.client_ip = ex.client_ip;
  ctx.audited = audit != nullptr;
  ctx.executor = ex.executor;
  RequestTrace& trace = ctx.trace;
  trace.start = ex.start;
  trace.wall_start = clock.Now();
  if (auto parent = ParseTraceparent(req["traceparent"])) {
    trace.trace_id = parent->trace_id;
    trace.parent_id = parent->parent_id;
    trace.has_parent = true;
    trace.sampled = parent->sampled;
  } else {
    trace.trace_id = RandomTraceId();
    trace.sampled = sample_ratio >= 1 || (sample_ratio > 0 && RandomUnit() < sample_ratio);
  }
  trace.span_id = RandomSpanId();
  Router::Match match = router.Find(req.method(), req.target(), ctx);
  ex.route = match.route;
  if (match.handler != nullptr) {
    auto content_type = req[http::field::content_type];
    bool admitted = true;
    if (!admissions.empty()) {
      const auto gateway_start = clock.MonotonicNow();
      // Behind a catch-all route (the gateway's proxy, MLflow's API) the path itself
      // says what is asked for.
      std::string_view target = req.target();
      const std::string_view admit_route =
          match.wildcard ? target.substr(0, target.find('?')) : match.route;
      for (Admission* a : admissions) {
        if (!a->Admit(ctx, admit_route, ex.client_ip)) {
          admitted = false;
          break;
        }
      }
      ctx.trace.Add("gateway", gateway_start, clock.MonotonicNow());
    }
    if (!admitted) {
      // answered by the admission (e.g. 429)
    } else if (match.media == BodyMedia::kJson && HasBody(req.method()) && !content_type.empty() &&
               !IsJsonMediaType(content_type)) {
      ctx.Error(UnsupportedMedia("Content-Type '" + std::string(content_type) +
                                 "' is not supported; send application/json"));
    } else {
      try {
        (*match.handler)(ctx);
      } catch (const std::exception& e) {  // safety net: handlers report errors as Status
        LogError("handler threw").Kv("request_id", ex.request_id).Kv("error", e.what());
        ctx.deferred = false;
        ctx.Error(Internal("internal error while handling the request"));
      }
      if (ctx.deferred) return false;
    }
  } else if (match.status == 405) {
    ctx.Json(405, ErrorBody("method " + std::string(req.method_string()) + " is not allowed on " +
                            std::string(match.route) + "; allowed: " + match.allow));
    ctx.headers.emplace_back("Allow", match.allow);
  } else {
    std::string_view target = req.target();
    ctx.Json(404, ErrorBody("no route for " + std::string(req.method_string()) + " " +
                            std::string(target.substr(0, target.find('?')))));
  }
  Finalize(ex);
  return true;
}

void ServerShared::Finalize(Exchange& ex) {
  HttpRequest& req = ex.request;
  RequestContext& ctx = *ex.ctx;
  // The head is written straight into the exchange's buffer (reused from one
  // request to the next). A field a handler set replaces the default of that name,
  // and of one name set twice the last one counts (but Set-Cookie, which repeats).
  const unsigned version = req.version();
  ex.status = ctx.status;
  ex.keep_alive = req.keep_alive() && !draining.load(std::memory_order_relaxed);
  ex.body = std::move(ctx.body);
  auto set_by_handler = [&ctx](std::string_view name, size_t after) {
    for (size_t i = after; i < ctx.headers.size(); ++i) {
      if (boost::beast::iequals(ctx.headers[i].first, name)) return true;
    }
    return false;
  };
  BeginHead(ex.head, version, ctx.status);
  if (!set_by_handler("Content-Type", 0)) AddField(ex.head, "Content-Type", ctx.content_type);
  if (!set_by_handler("X-Request-Id", 0)) AddField(ex.head, "X-Request-Id", ex.request_id);
  if (!set_by_handler("traceparent", 0)) {
    AddField(ex.head, "traceparent",
             FormatTraceparent(ctx.trace.trace_id, ctx.trace.span_id, ctx.trace.sampled));
  }
  for (size_t i = 0; i < ctx.headers.size(); ++i) {
    const auto& [name, value] = ctx.headers[i];
    if (boost::beast::iequals(name, "Content-Length") ||
        boost::beast::iequals(name, "Connection") || boost::beast::iequals(name, "Server") ||
        (!boost::beast::iequals(name, "Set-Cookie") && set_by_handler(name, i + 1))) {
      continue;
    }
    AddField(ex.head, name, value);
  }
  EndHead(ex.head, version, ctx.status, ex.body.size(), ex.keep_alive);

  const auto end = clock.MonotonicNow();
  double seconds = std::chrono::duration<double>(end - ex.start).count();
  char code[8];
  auto code_end = std::to_chars(code, code + sizeof code, ctx.status).ptr;
  requests_total
      ->Labels({ex.route, req.method_string(), ctx.model_label, ctx.version_label,
                std::string_view(code, static_cast<size_t>(code_end - code))})
      .Inc();
  request_seconds->Labels({ex.route}).Observe(seconds);
  const bool slow = slow_request_ms > 0 && seconds * 1000 >= static_cast<double>(slow_request_ms);
  if (slow || spdlog::should_log(spdlog::level::debug)) {
    LogLine line(slow ? spdlog::level::warn : spdlog::level::debug,
                 slow ? "slow request" : "request");
    line.Kv("request_id", ex.request_id)
        .Kv("trace_id", View(ctx.trace.trace_id))
        .Kv("span_id", View(ctx.trace.span_id))
        .Kv("method", req.method_string())
        .Kv("route", ex.route)
        .Kv("status", static_cast<int64_t>(ctx.status))
        .Kv("latency_ms", seconds * 1000);
    for (const SpanTiming& s : ctx.trace.spans()) {
      line.Kv(std::string(s.name) + "_ms",
              std::chrono::duration<double, std::milli>(s.end - s.start).count());
    }
  }
  if (audit != nullptr) {
    AuditRecord a;
    a.unix_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                    ctx.trace.wall_start.time_since_epoch())
                    .count();
    a.request_id = ex.request_id;
    a.principal = ctx.principal;
    a.client_ip = ex.client_ip;
    a.method = req.method_string();
    a.route = ex.route;
    a.target = req.target();
    a.model = ctx.model_label;
    a.version = ctx.version_label;
    a.label = ctx.audit_label;
    a.decision = ctx.audit_decision;
    a.input_sha256 = ctx.audit_input_sha256;
    a.body = req.body();
    a.status = ctx.status;
    a.latency_ms = seconds * 1000;
    audit->Record(a);
  }
  if (trace_sink != nullptr && ctx.trace.sampled) {
    trace_sink->Record({ctx.trace, req.method_string(), ex.route, ex.request_id, ctx.model_label,
                        ctx.version_label, ctx.status, end});
  }
}

// One worker thread: its io_context and its acceptor (SO_REUSEPORT on a shared port).
class Worker {
 public:
  using Socket = tcp::socket::rebind_executor<asio::io_context::executor_type>::other;

  explicit Worker(ServerShared& shared) : shared_(shared), acceptor_(ioc_), retry_(ioc_) {}

  Status Bind(const tcp::endpoint& endpoint) {
    boost::system::error_code ec;
    acceptor_.open(endpoint.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) {
      using reuse_port = asio::detail::socket_option::boolean<SOL_SOCKET, SO_REUSEPORT>;
      acceptor_.set_option(reuse_port(true), ec);
    }
    if (!ec) acceptor_.bind(endpoint, ec);
    if (!ec) acceptor_.listen(4096, ec);
    if (ec) {
      return Unavailable("cannot listen on " + endpoint.address().to_string() + ":" +
                         std::to_string(endpoint.port()) + ": " + ec.message());
    }
    return OkStatus();
  }
  uint16_t port() const { return acceptor_.local_endpoint().port(); }

  void Accept() {
    // Sockets on this worker's io_context, by type (see PlainStream).
    acceptor_.async_accept(ioc_, [this](boost::system::error_code ec, Socket socket) {
      if (ec == asio::error::operation_aborted || !acceptor_.is_open()) return;
      if (ec == asio::error::no_descriptors || ec.value() == ENFILE) {
        LogWarn("accept failed: out of file descriptors; retrying").Kv("error", ec.message());
        retry_.expires_after(std::chrono::milliseconds(50));
        retry_.async_wait([this](boost::system::error_code) { Accept(); });
        return;
      }
      if (!ec) {
        boost::system::error_code opt_ec;
        socket.set_option(tcp::no_delay(true), opt_ec);
        if (shared_.tls) {
          std::make_shared<HttpsSession>(TlsStream(std::move(socket), *shared_.tls), shared_)
              ->Start();
        } else {
          std::make_shared<HttpSession>(PlainStream(std::move(socket)), shared_)->Start();
        }
      }
      Accept();
    });
  }

  void Run() { ioc_.run(); }
  void CloseAcceptor() {
    asio::post(ioc_, [this] {
      boost::system::error_code ec;
      acceptor_.close(ec);
      retry_.cancel();
    });
  }
  void Stop() { ioc_.stop(); }
  // Only after the worker thread has exited (no concurrent access to the acceptor).
  void CloseAcceptorAfterStop() {
    boost::system::error_code ec;
    acceptor_.close(ec);
  }

 private:
  ServerShared& shared_;
  // One thread runs this io_context and every socket and timer on it is used only
  // from that thread (other threads only post to it): no locking in the reactor's
  // I/O paths; the scheduler still locks, for those posts.
  asio::io_context ioc_{BOOST_ASIO_CONCURRENCY_HINT_UNSAFE_IO};
  tcp::acceptor acceptor_;
  asio::steady_timer retry_;
};

HttpServer::HttpServer(const ServerConfig& config, const Router& router, MetricsRegistry& metrics,
                       const Clock& clock)
    : shared_(std::make_unique<ServerShared>(config, router, metrics, clock)) {}

HttpServer::~HttpServer() {
  if (!stopped_ && !threads_.empty()) Shutdown(std::chrono::milliseconds(0));
  workers_.clear();  // destroys io_contexts (and remaining sessions) before shared_
}

int64_t HttpServer::InFlight() const { return shared_->in_flight.load(); }

const char* HttpServer::scheme() const {
  return shared_->config.tls_cert_file.empty() ? "http" : "https";
}

void HttpServer::AddAdmission(Admission* admission) { shared_->admissions.push_back(admission); }

void HttpServer::SetAudit(AuditSink* sink) { shared_->audit = sink; }

void HttpServer::SetTracing(const TracingConfig& config, TraceSink* sink) {
  shared_->sample_ratio = config.sample_ratio;
  shared_->slow_request_ms = config.slow_request_ms;
  shared_->trace_sink = sink;
}

Status HttpServer::Start() {
  // Many concurrent connections need descriptors: raise the soft limit to the hard one.
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
    lim.rlim_cur = lim.rlim_max;
    setrlimit(RLIMIT_NOFILE, &lim);
  }
  const ServerConfig& c = shared_->config;
  if (!c.tls_cert_file.empty() || !c.tls_key_file.empty()) {
    if (c.tls_cert_file.empty() || c.tls_key_file.empty()) {
      return InvalidArgument("TLS needs both a certificate (--tls-cert) and its key (--tls-key)");
    }
    auto tls = std::make_unique<asio::ssl::context>(asio::ssl::context::tls_server);
    tls->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                     asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                     asio::ssl::context::no_tlsv1_1 | asio::ssl::context::single_dh_use);
    boost::system::error_code tls_ec;
    tls->use_certificate_chain_file(c.tls_cert_file, tls_ec);
    if (tls_ec) {
      return InvalidArgument("cannot use the TLS certificate '" + c.tls_cert_file +
                             "': " + tls_ec.message());
    }
    tls->use_private_key_file(c.tls_key_file, asio::ssl::context::pem, tls_ec);
    if (tls_ec) {
      return InvalidArgument("cannot use the TLS key '" + c.tls_key_file +
                             "': " + tls_ec.message());
    }
    if (SSL_CTX_check_private_key(tls->native_handle()) != 1) {
      return InvalidArgument("the TLS key '" + c.tls_key_file +
                             "' does not match the certificate '" + c.tls_cert_file + "'");
    }
    shared_->tls = std::move(tls);
  }
  boost::system::error_code ec;
  auto address = asio::ip::make_address(shared_->config.host, ec);
  if (ec) return InvalidArgument("listen host '" + shared_->config.host + "' is not an IP address");
  int n = shared_->config.workers > 0 ? shared_->config.workers
                                      : static_cast<int>(std::thread::hardware_concurrency());
  if (n <= 0) n = 1;
  uint16_t port = shared_->config.port;
  for (int i = 0; i < n; ++i) {
    auto w = std::make_unique<Worker>(*shared_);
    RETURN_IF_ERROR(w->Bind(tcp::endpoint(address, port)));
    port = w->port();  // with port 0, the others join the port the first one got
    workers_.push_back(std::move(w));
  }
  port_ = port;
  for (auto& w : workers_) {
    w->Accept();
    threads_.emplace_back([worker = w.get()] { worker->Run(); });
  }
  return OkStatus();
}

int64_t HttpServer::Shutdown(std::chrono::milliseconds drain_deadline) {
  if (stopped_) return 0;
  stopped_ = true;
  shared_->draining = true;
  for (auto& w : workers_) w->CloseAcceptor();
  auto deadline = std::chrono::steady_clock::now() + drain_deadline;
  while (shared_->in_flight.load() > 0 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  int64_t left = shared_->in_flight.load();
  for (auto& w : workers_) w->Stop();
  for (auto& t : threads_) t.join();
  threads_.clear();
  // A close posted above may not have run if the workers stopped first.
  for (auto& w : workers_) w->CloseAcceptorAfterStop();
  return left;
}

}  // namespace closedloop
