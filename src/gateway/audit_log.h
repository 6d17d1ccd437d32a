// AuditLog: one JSON line per answered request, for whoever must later say who
// asked what, when, and what the system answered:
//
//   {"time":"2026-11-30T09:12:03.417Z","request_id":"01M8...","principal":"app",
//    "client_ip":"127.0.0.1","method":"POST","route":"/v1/predict",
//    "model":"support-intent@1","input_sha256":"9f86...","label":"card_arrival",
//    "decision":"auto_reply","status":200,"latency_ms":0.41}
//
// The input is recorded as its SHA-256 (the model's input when the handler names
// it, else the request body), never raw unless include_input. Lines are written
// by one thread from a bounded lock-free queue: the request path formats and
// enqueues, never waits for the disk; a full queue drops the line and counts it
// (closedloop_audit_dropped_total). The file (0600) is rotated by size:
// audit.log → audit.log.1 → ... → audit.log.<max_files>, the oldest deleted.
// fsync: "always" syncs every write (lines are durable within one writer cycle of
// their answer), "interval" at most every fsync_interval_ms, "never" leaves it to
// the kernel.
//
// Lifecycle: Open() creates the directory and file; Start() runs the writer;
// Stop() (or the destructor) writes what is queued, syncs and closes.
// Thread safety: Record from any thread; Start/Stop from one.
#pragma once

#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "core/clock.h"
#include "core/config.h"
#include "core/mpmc_queue.h"
#include "core/status.h"
#include "http/audit_sink.h"
#include "monitor/metrics.h"

namespace closedloop {

class AuditLog final : public AuditSink {
 public:
  // `path` is the live file; `metrics` and `clock` must outlive the log.
  static StatusOr<std::unique_ptr<AuditLog>> Open(const AuditConfig& config, std::string path,
                                                  MetricsRegistry& metrics, const Clock& clock);
  ~AuditLog() override;

  void Record(const AuditRecord& record) override;
  void Start();
  void Stop();
  // Writes everything queued now (the writer's step; tests call it directly).
  Status Flush();
  // Where `[audit]` puts the live file: its path, or <data_dir>/audit/audit.log.
  static std::string PathFor(const AuditConfig& config, const std::string& data_dir);
  // Open() for a process's [audit] (null when disabled).
  static StatusOr<std::unique_ptr<AuditLog>> FromConfig(const Config& config,
                                                        MetricsRegistry& metrics,
                                                        const Clock& clock);

 private:
  AuditLog(const AuditConfig& config, std::string path, MetricsRegistry& metrics,
           const Clock& clock);
  Status OpenFile();
  Status Rotate();
  void Run();

  const AuditConfig config_;
  const std::string path_;
  const Clock& clock_;
  BoundedMpmcQueue<std::string> queue_;
  Counter* written_;
  Counter* dropped_;
  Counter* rotations_;
  Counter* write_errors_;

  std::mutex write_mu_;  // the file: writer thread and Flush callers
  int fd_ = -1;
  int64_t size_ = 0;
  std::chrono::steady_clock::time_point last_sync_;

  std::mutex mu_;
  std::condition_variable wake_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace closedloop
