#include "gateway/audit_log.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/json_writer.h"
#include "core/logging.h"
#include "core/sha256.h"

namespace closedloop {

namespace fs = std::filesystem;

AuditLog::AuditLog(const AuditConfig& config, std::string path, MetricsRegistry& metrics,
                   const Clock& clock)
    : config_(config),
      path_(std::move(path)),
      clock_(clock),
      queue_(config.queue_capacity),
      written_(&metrics
                    .AddCounter("closedloop_audit_records_total",
                                "Requests written to the audit log.", {})
                    ->Labels({})),
      dropped_(&metrics
                    .AddCounter("closedloop_audit_dropped_total",
                                "Audit lines dropped because the writer's queue was full.", {})
                    ->Labels({})),
      rotations_(&metrics
                      .AddCounter("closedloop_audit_rotations_total",
                                  "Audit log files rotated by size.", {})
                      ->Labels({})),
      write_errors_(&metrics
                         .AddCounter("closedloop_audit_write_errors_total",
                                     "Failed writes or syncs of the audit log.", {})
                         ->Labels({})) {}

StatusOr<std::unique_ptr<AuditLog>> AuditLog::Open(const AuditConfig& config, std::string path,
                                                   MetricsRegistry& metrics, const Clock& clock) {
  std::error_code ec;
  const fs::path dir = fs::path(path).parent_path();
  if (!dir.empty()) fs::create_directories(dir, ec);
  if (ec) return Unavailable("cannot create the audit log's directory: " + ec.message());
  std::unique_ptr<AuditLog> log(new AuditLog(config, std::move(path), metrics, clock));
  RETURN_IF_ERROR(log->OpenFile());
  return log;
}

std::string AuditLog::PathFor(const AuditConfig& config, const std::string& data_dir) {
  return config.path.empty() ? data_dir + "/audit/audit.log" : config.path;
}

StatusOr<std::unique_ptr<AuditLog>> AuditLog::FromConfig(const Config& config,
                                                         MetricsRegistry& metrics,
                                                         const Clock& clock) {
  if (!config.audit.enabled) return std::unique_ptr<AuditLog>();
  return Open(config.audit, PathFor(config.audit, config.data_dir), metrics, clock);
}

AuditLog::~AuditLog() {
  Stop();
  if (fd_ >= 0) ::close(fd_);
}

Status AuditLog::OpenFile() {
  fd_ = ::open(path_.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (fd_ < 0) {
    return Unavailable("cannot open the audit log '" + path_ + "': " + std::strerror(errno));
  }
  struct stat st {};
  size_ = ::fstat(fd_, &st) == 0 ? st.st_size : 0;
  last_sync_ = clock_.MonotonicNow();
  return OkStatus();
}

void AuditLog::Record(const AuditRecord& r) {
  JsonWriter w(384);
  w.BeginObject()
      .Key("time")
      .String(FormatUtcMillis(r.unix_ms))
      .Key("request_id")
      .String(r.request_id)
      .Key("principal")
      .String(r.principal)
      .Key("client_ip")
      .String(r.client_ip)
      .Key("method")
      .String(r.method)
      .Key("route")
      .String(r.route)
      .Key("path")
      .String(r.target.substr(0, r.target.find('?')));
  if (!r.model.empty()) {
    std::string mv(r.model);
    if (!r.version.empty()) mv.append("@").append(r.version);
    w.Key("model").String(mv);
  }
  if (!r.input_sha256.empty()) {
    w.Key("input_sha256").String(r.input_sha256);
  } else if (!r.body.empty()) {
    w.Key("input_sha256").String(Sha256Hex(r.body));
  }
  if (config_.include_input && !r.body.empty()) w.Key("input").String(r.body);
  if (!r.label.empty()) w.Key("label").String(r.label);
  if (!r.decision.empty()) w.Key("decision").String(r.decision);
  w.Key("status").Int(r.status).Key("latency_ms").Double(r.latency_ms).EndObject();
  std::string line = std::move(w).Take();
  line.push_back('\n');
  if (!queue_.TryPush(line)) {
    dropped_->Inc();
    return;
  }
  // The writer wakes on its own within a few milliseconds; no notify on the hot path.
}

Status AuditLog::Rotate() {
  ::close(fd_);
  fd_ = -1;
  std::error_code ec;
  const std::string oldest = path_ + "." + std::to_string(config_.max_files);
  fs::remove(oldest, ec);
  for (int i = config_.max_files - 1; i >= 1; --i) {
    const std::string from = path_ + "." + std::to_string(i);
    if (fs::exists(from, ec)) fs::rename(from, path_ + "." + std::to_string(i + 1), ec);
  }
  fs::rename(path_, path_ + ".1", ec);
  if (ec) LogWarn("audit log rotation failed").Kv("error", ec.message());
  rotations_->Inc();
  return OpenFile();
}

Status AuditLog::Flush() {
  std::lock_guard lock(write_mu_);
  std::string batch, line;
  bool wrote = false;
  while (true) {
    batch.clear();
    int64_t lines = 0;
    while (batch.size() < (256 << 10) && queue_.TryPop(line)) {
      batch += line;
      ++lines;
    }
    if (batch.empty()) break;
    if (fd_ < 0) RETURN_IF_ERROR(OpenFile());
    if (size_ > 0 && size_ + static_cast<int64_t>(batch.size()) > config_.max_bytes) {
      RETURN_IF_ERROR(Rotate());
    }
    size_t off = 0;
    while (off < batch.size()) {
      ssize_t n = ::write(fd_, batch.data() + off, batch.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        write_errors_->Inc();
        return Unavailable("audit log write failed: " + std::string(std::strerror(errno)));
      }
      off += static_cast<size_t>(n);
    }
    size_ += static_cast<int64_t>(batch.size());
    written_->Inc(static_cast<double>(lines));
    wrote = true;
  }
  const auto now = clock_.MonotonicNow();
  const bool sync =
      wrote && (config_.fsync == "always" ||
                (config_.fsync == "interval" &&
                 now - last_sync_ >= std::chrono::milliseconds(config_.fsync_interval_ms)));
  if (sync) {
    if (::fdatasync(fd_) != 0) {
      write_errors_->Inc();
      return Unavailable("audit log sync failed: " + std::string(std::strerror(errno)));
    }
    last_sync_ = now;
  }
  return OkStatus();
}

void AuditLog::Start() {
  thread_ = std::thread([this] { Run(); });
}

void AuditLog::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_) return;
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  Status s = Flush();
  std::lock_guard lock(write_mu_);
  if (fd_ >= 0 && config_.fsync != "never") ::fdatasync(fd_);
  if (!s.ok()) LogWarn("audit log").Kv("error", s.message());
}

void AuditLog::Run() {
  std::unique_lock lock(mu_);
  while (!stop_) {
    wake_.wait_for(lock, std::chrono::milliseconds(5), [this] { return stop_; });
    lock.unlock();
    Status s = Flush();
    if (!s.ok()) LogWarn("audit log").Kv("error", s.message());
    lock.lock();
  }
}

}  // namespace closedloop
