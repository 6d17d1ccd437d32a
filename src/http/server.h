// HttpServer: HTTP/1.1 on Boost.Beast/Asio with one io_context per worker thread.
//
// Each worker owns an io_context and its own acceptor on the same port
// (SO_REUSEPORT), so the kernel spreads connections and no lock is shared
// between workers. A connection lives on one worker for its whole life.
//
// Protections: body limit (413), header limit (431), header timeout (the full
// header of each request, including the first, must arrive within
// header_timeout_ms: idle keep-alive and slow-trickle clients are closed), body
// timeout, pipelined requests answered in order, `Expect: 100-continue` honoured.
// Every response carries X-Request-Id; errors are JSON.
//
// Lifecycle: Start() binds and runs the workers; Shutdown() stops accepting,
// lets in-flight requests finish until the drain deadline (responses then carry
// `Connection: close`), then stops the workers. Not restartable.
// Thread safety: Start/Shutdown from one controlling thread; port(), InFlight()
// from any thread.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/config.h"
#include "core/status.h"
#include "core/ulid.h"
#include "http/admission.h"
#include "http/audit_sink.h"
#include "http/router.h"
#include "monitor/metrics.h"

namespace closedloop {

struct ServerShared;  // defined in http/session.h
class Worker;

class HttpServer {
 public:
  // `router`, `metrics` and `clock` must outlive the server.
  HttpServer(const ServerConfig& config, const Router& router, MetricsRegistry& metrics,
             const Clock& clock);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Before Start(): the sampling ratio of new traces, the slow-request log
  // threshold, and where sampled requests' spans go (`sink` may be null and must
  // outlive the server).
  void SetTracing(const TracingConfig& config, TraceSink* sink);
  // Before Start(): a check between routing and the handler, run after the ones
  // added before it (must outlive the server).
  void AddAdmission(Admission* admission);
  // Before Start(): every answered request goes to `sink` (must outlive the server).
  void SetAudit(AuditSink* sink);
  Status Start();
  uint16_t port() const { return port_; }
  // "https" when the server speaks TLS (server.tls_cert_file), else "http".
  const char* scheme() const;
  int64_t InFlight() const;

  // Returns the number of requests still in flight when the deadline passed (0: clean drain).
  int64_t Shutdown(std::chrono::milliseconds drain_deadline);

 private:
  std::unique_ptr<ServerShared> shared_;
  std::vector<std::unique_ptr<Worker>> workers_;
  std::vector<std::thread> threads_;
  uint16_t port_ = 0;
  bool stopped_ = false;
};

}  // namespace closedloop
