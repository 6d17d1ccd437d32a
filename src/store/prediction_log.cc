#include "store/prediction_log.h"

#include "core/logging.h"
#include "store/migrations.h"

namespace closedloop {

namespace {
constexpr std::string_view kInsertSql =
    "INSERT OR REPLACE INTO predictions (request_id, ts_ms, model, version, input_sha256, "
    "input_text, label, confidence, top_k, latency_ms) VALUES (?,?,?,?,?,?,?,?,?,?)";
}  // namespace

StatusOr<std::unique_ptr<PredictionLog>> PredictionLog::Open(const PredictionLogConfig& config,
                                                             const std::string& path,
                                                             MetricsRegistry& metrics) {
  ASSIGN_OR_RETURN(auto db, SqliteDb::Open(path, SqliteDb::Mode::kReadWrite));
  RETURN_IF_ERROR(
      ApplyMigrations(*db, PredictionLogMigrations()).WithContext("prediction log '" + path + "'"));
  std::unique_ptr<PredictionLog> log(new PredictionLog(config, path, std::move(db), metrics));
  log->running_ = true;
  log->writer_ = std::thread([p = log.get()] { p->WriterLoop(); });
  return log;
}

PredictionLog::PredictionLog(const PredictionLogConfig& config, std::string path,
                             std::unique_ptr<SqliteDb> writer_db, MetricsRegistry& metrics)
    : config_(config),
      path_(std::move(path)),
      writer_db_(std::move(writer_db)),
      queue_(config.queue_capacity) {
  written_total_ = &metrics
                        .AddCounter("closedloop_prediction_log_written_total",
                                    "Predictions committed to the prediction log.", {})
                        ->Labels({});
  dropped_total_ = &metrics
                        .AddCounter("closedloop_prediction_log_dropped_total",
                                    "Predictions not logged because the queue was full.", {})
                        ->Labels({});
  write_errors_total_ =
      &metrics
           .AddCounter("closedloop_prediction_log_write_errors_total",
                       "Predictions lost because their batch failed to commit.", {})
           ->Labels({});
  queue_depth_ = &metrics
                      .AddGauge("closedloop_prediction_log_queue_depth",
                                "Predictions waiting for the log writer.", {})
                      ->Labels({});
  commit_seconds_ = &metrics
                         .AddHistogram("closedloop_prediction_log_commit_seconds",
                                       "Time to commit one group of predictions.", {})
                         ->Labels({});
  batch_size_ =
      &metrics
           .AddHistogram("closedloop_prediction_log_batch_size", "Predictions per group commit.",
                         {}, {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 4096})
           ->Labels({});
}

PredictionLog::~PredictionLog() { Stop(); }

bool PredictionLog::Append(PredictionRecord& record) {
  if (queue_.TryPush(record)) return true;
  uint64_t n = dropped_.fetch_add(1) + 1;
  dropped_total_->Inc();
  if (n == 1 || n % 1000 == 0) {  // never silent, but do not flood the log under overload
    LogWarn("prediction log queue full; prediction not logged")
        .Kv("request_id", record.request_id)
        .Kv("dropped_total", n)
        .Kv("queue_capacity", static_cast<uint64_t>(queue_.capacity()));
  }
  return false;
}

void PredictionLog::WriterLoop() {
  std::vector<PredictionRecord> batch;
  batch.reserve(config_.max_batch);
  PredictionRecord rec;
  size_t popped = 0;  // the only consumer: tickets [0, popped) have left the queue, in order
  for (;;) {
    batch.clear();
    while (batch.size() < config_.max_batch && queue_.TryPop(rec)) batch.push_back(std::move(rec));
    popped += batch.size();
    queue_depth_->Set(static_cast<double>(queue_.ApproxSize()));
    if (!batch.empty()) {
      Status s = WriteBatch(batch);
      if (!s.ok()) {
        write_errors_total_->Inc(static_cast<double>(batch.size()));
        LogError("prediction log commit failed; batch lost")
            .Kv("records", static_cast<uint64_t>(batch.size()))
            .Kv("error", s.message());
      }
    }
    std::unique_lock lock(mu_);
    committed_position_ = popped;
    committed_cv_.notify_all();
    if (!batch.empty()) continue;  // there may be more
    if (stop_requested_ && queue_.ApproxSize() == 0) break;
    wake_writer_.wait_for(lock, std::chrono::milliseconds(config_.flush_interval_ms));
  }
  std::lock_guard lock(mu_);
  running_ = false;
  committed_cv_.notify_all();
}

Status PredictionLog::WriteBatch(std::vector<PredictionRecord>& batch) {
  auto start = std::chrono::steady_clock::now();
  RETURN_IF_ERROR(writer_db_->Exec("BEGIN IMMEDIATE"));
  ASSIGN_OR_RETURN(auto stmt, writer_db_->Prepare(kInsertSql));
  for (const auto& r : batch) {
    stmt.BindTextNoCopy(1, r.request_id);
    stmt.BindInt(2, r.ts_ms);
    stmt.BindTextNoCopy(3, r.model);
    stmt.BindTextNoCopy(4, r.version);
    stmt.BindTextNoCopy(5, r.input_sha256);
    if (r.input_text) {
      stmt.BindTextNoCopy(6, *r.input_text);
    } else {
      stmt.BindNull(6);
    }
    stmt.BindTextNoCopy(7, r.label);
    stmt.BindDouble(8, r.confidence);
    stmt.BindTextNoCopy(9, r.top_k_json);
    stmt.BindDouble(10, r.latency_ms);
    auto step = stmt.Step();
    if (!step.ok()) {
      (void)writer_db_->Exec("ROLLBACK");
      return step.status();
    }
    (void)stmt.Reset();
  }
  RETURN_IF_ERROR(writer_db_->Exec("COMMIT"));
  written_.fetch_add(batch.size());
  written_total_->Inc(static_cast<double>(batch.size()));
  batch_size_->Observe(static_cast<double>(batch.size()));
  commit_seconds_->Observe(
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return OkStatus();
}

bool PredictionLog::Flush(std::chrono::milliseconds timeout) {
  size_t target = queue_.EnqueuePosition();
  std::unique_lock lock(mu_);
  wake_writer_.notify_one();
  return committed_cv_.wait_for(lock, timeout,
                                [&] { return committed_position_ >= target || !running_.load(); });
}

StatusOr<std::optional<PredictionRecord>> PredictionLog::Lookup(const std::string& request_id) {
  std::unique_ptr<SqliteDb> db;
  {
    std::lock_guard lock(readers_mu_);
    if (!readers_.empty()) {
      db = std::move(readers_.back());
      readers_.pop_back();
    }
  }
  if (!db) {
    ASSIGN_OR_RETURN(db, SqliteDb::Open(path_, SqliteDb::Mode::kReadOnly));
  }
  std::optional<PredictionRecord> out;
  {
    ASSIGN_OR_RETURN(auto stmt,
                     db->Prepare("SELECT request_id, ts_ms, model, version, input_sha256, "
                                 "input_text, label, confidence, top_k, latency_ms "
                                 "FROM predictions WHERE request_id = ?"));
    stmt.BindText(1, request_id);
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (row) {
      PredictionRecord r;
      r.request_id = stmt.ColumnText(0);
      r.ts_ms = stmt.ColumnInt(1);
      r.model = stmt.ColumnText(2);
      r.version = stmt.ColumnText(3);
      r.input_sha256 = stmt.ColumnText(4);
      r.input_text = stmt.ColumnTextOrNull(5);
      r.label = stmt.ColumnText(6);
      r.confidence = stmt.ColumnDouble(7);
      r.top_k_json = stmt.ColumnText(8);
      r.latency_ms = stmt.ColumnDouble(9);
      out = std::move(r);
    }
  }
  std::lock_guard lock(readers_mu_);
  readers_.push_back(std::move(db));
  return out;
}

StatusOr<PredictionRecord> PredictionLog::Get(const std::string& request_id) {
  ASSIGN_OR_RETURN(auto found, Lookup(request_id));
  if (!found) {
    Flush(std::chrono::seconds(2));  // it may still be queued
    ASSIGN_OR_RETURN(found, Lookup(request_id));
  }
  if (!found) return NotFound("no prediction with request_id '" + request_id + "'");
  return std::move(*found);
}

void PredictionLog::Stop() {
  {
    std::lock_guard lock(mu_);
    if (stop_requested_ && !writer_.joinable()) return;
    stop_requested_ = true;
    wake_writer_.notify_one();
  }
  if (writer_.joinable()) writer_.join();
  std::lock_guard lock(readers_mu_);
  readers_.clear();
}

}  // namespace closedloop
