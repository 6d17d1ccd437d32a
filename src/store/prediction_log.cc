#include "store/prediction_log.h"

#include <type_traits>

#include "core/logging.h"
#include "store/migrations.h"

namespace closedloop {

namespace {
constexpr std::string_view kInsertSql =
    "INSERT OR REPLACE INTO predictions (request_id, ts_ms, model, version, input_sha256, "
    "input_text, label, confidence, top_k, latency_ms, action, propensity) "
    "VALUES (?,?,?,?,?,?,?,?,?,?,?,?)";
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
  Entry entry{std::move(record), std::nullopt, nullptr, nullptr, nullptr};
  if (queue_.TryPush(entry)) return true;
  uint64_t n = dropped_.fetch_add(1) + 1;
  dropped_total_->Inc();
  if (n == 1 || n % 1000 == 0) {  // never silent, but do not flood the log under overload
    LogWarn("prediction log queue full; prediction not logged")
        .Kv("request_id", entry.prediction.request_id)
        .Kv("dropped_total", n)
        .Kv("queue_capacity", static_cast<uint64_t>(queue_.capacity()));
  }
  return false;
}

bool PredictionLog::AppendJob(Job work, std::function<void(Status)> done) {
  Entry entry{PredictionRecord{}, std::nullopt, nullptr, std::move(work), std::move(done)};
  if (queue_.TryPush(entry)) return true;
  dropped_total_->Inc();
  return false;
}

Status PredictionLog::Read(const std::function<Status(SqliteDb&)>& read) {
  return WithReader([&](SqliteDb& db) { return read(db); });
}

bool PredictionLog::AppendFeedback(FeedbackRecord record, FeedbackCallback done) {
  Entry entry{PredictionRecord{}, std::move(record), std::move(done), nullptr, nullptr};
  if (queue_.TryPush(entry)) return true;
  dropped_total_->Inc();
  return false;
}

void PredictionLog::WriterLoop() {
  std::vector<Entry> batch;
  std::vector<FeedbackOutcome> outcomes;
  std::vector<Status> job_results;
  batch.reserve(config_.max_batch);
  Entry rec;
  size_t popped = 0;  // the only consumer: tickets [0, popped) have left the queue, in order
  for (;;) {
    batch.clear();
    outcomes.clear();
    job_results.clear();
    while (batch.size() < config_.max_batch && queue_.TryPop(rec)) batch.push_back(std::move(rec));
    popped += batch.size();
    queue_depth_->Set(static_cast<double>(queue_.ApproxSize()));
    if (!batch.empty()) {
      Status s = WriteBatch(batch, outcomes, job_results);
      if (!s.ok()) {
        write_errors_total_->Inc(static_cast<double>(batch.size()));
        LogError("prediction log commit failed; batch lost")
            .Kv("records", static_cast<uint64_t>(batch.size()))
            .Kv("error", s.message());
      }
      // Only now (committed, or failed as a whole) do the feedback senders hear back.
      size_t k = 0, j = 0;
      for (auto& e : batch) {
        if (e.job) {
          Status r = s.ok() ? job_results[j] : Unavailable("not stored: " + s.message());
          ++j;
          if (e.job_done) e.job_done(std::move(r));
          continue;
        }
        if (!e.feedback) continue;
        FeedbackOutcome out = s.ok() ? std::move(outcomes[k]) : FeedbackOutcome{};
        if (!s.ok()) out.status = Unavailable("feedback not stored: " + s.message());
        ++k;
        if (e.done) e.done(std::move(out));
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

namespace {

constexpr std::string_view kInsertFeedbackSql =
    "INSERT INTO feedback (feedback_id, request_id, ts_ms, rating, comment, nps, label, click, "
    "dwell_ms, scroll_depth, idempotency_key, comment_sentiment, implicit_score, "
    "explicit_score) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)";
constexpr std::string_view kFeedbackColumns =
    "SELECT feedback_id, request_id, ts_ms, rating, comment, nps, label, click, dwell_ms, "
    "scroll_depth, idempotency_key, comment_sentiment, implicit_score, explicit_score "
    "FROM feedback ";

template <typename T>
void BindOptional(SqliteStatement& s, int i, const std::optional<T>& v) {
  if (!v) {
    s.BindNull(i);
  } else if constexpr (std::is_same_v<T, std::string>) {
    s.BindTextNoCopy(i, *v);
  } else if constexpr (std::is_floating_point_v<T>) {
    s.BindDouble(i, *v);
  } else {
    s.BindInt(i, static_cast<int64_t>(*v));
  }
}

FeedbackRecord ReadFeedback(const SqliteStatement& s) {
  FeedbackRecord f;
  f.feedback_id = s.ColumnText(0);
  f.request_id = s.ColumnText(1);
  f.ts_ms = s.ColumnInt(2);
  auto text = [&](int i) { return s.ColumnTextOrNull(i); };
  auto integer = [&](int i) -> std::optional<int64_t> {
    if (!s.ColumnTextOrNull(i)) return std::nullopt;
    return s.ColumnInt(i);
  };
  auto real = [&](int i) -> std::optional<double> {
    if (!s.ColumnTextOrNull(i)) return std::nullopt;
    return s.ColumnDouble(i);
  };
  if (auto v = integer(3)) f.rating = static_cast<int>(*v);
  f.comment = text(4);
  if (auto v = integer(5)) f.nps = static_cast<int>(*v);
  f.label = text(6);
  if (auto v = integer(7)) f.click = *v != 0;
  f.dwell_ms = integer(8);
  f.scroll_depth = real(9);
  f.idempotency_key = text(10);
  f.comment_sentiment = real(11);
  f.implicit_score = real(12);
  f.explicit_score = real(13);
  return f;
}

}  // namespace

StatusOr<FeedbackOutcome> PredictionLog::WriteFeedback(FeedbackRecord& f) {
  FeedbackOutcome out;
  if (f.idempotency_key) {
    ASSIGN_OR_RETURN(auto seen, writer_db_->Prepare(std::string(kFeedbackColumns) +
                                                    "WHERE idempotency_key = ?"));
    seen.BindText(1, *f.idempotency_key);
    ASSIGN_OR_RETURN(bool found, seen.Step());
    if (found) {
      out.stored = ReadFeedback(seen);
      out.duplicate = true;
      return out;
    }
  }
  ASSIGN_OR_RETURN(auto exists,
                   writer_db_->Prepare("SELECT 1 FROM predictions WHERE request_id = ?"));
  exists.BindText(1, f.request_id);
  ASSIGN_OR_RETURN(bool found, exists.Step());
  if (!found) {
    out.status = NotFound("no prediction with request_id '" + f.request_id + "'");
    return out;
  }
  ASSIGN_OR_RETURN(auto ins, writer_db_->Prepare(kInsertFeedbackSql));
  ins.BindTextNoCopy(1, f.feedback_id);
  ins.BindTextNoCopy(2, f.request_id);
  ins.BindInt(3, f.ts_ms);
  BindOptional(ins, 4, f.rating);
  BindOptional(ins, 5, f.comment);
  BindOptional(ins, 6, f.nps);
  BindOptional(ins, 7, f.label);
  BindOptional(ins, 8, f.click);
  BindOptional(ins, 9, f.dwell_ms);
  BindOptional(ins, 10, f.scroll_depth);
  BindOptional(ins, 11, f.idempotency_key);
  BindOptional(ins, 12, f.comment_sentiment);
  BindOptional(ins, 13, f.implicit_score);
  BindOptional(ins, 14, f.explicit_score);
  RETURN_IF_ERROR(ins.Step().status());
  out.stored = f;
  return out;
}

Status PredictionLog::WriteBatch(std::vector<Entry>& batch, std::vector<FeedbackOutcome>& outcomes,
                                 std::vector<Status>& job_results) {
  auto start = std::chrono::steady_clock::now();
  RETURN_IF_ERROR(writer_db_->Exec("BEGIN IMMEDIATE"));
  ASSIGN_OR_RETURN(auto stmt, writer_db_->Prepare(kInsertSql));
  size_t predictions = 0;
  for (auto& e : batch) {
    if (e.job) {
      Status sp = writer_db_->Exec("SAVEPOINT job");
      Status r = sp.ok() ? e.job(*writer_db_) : sp;
      if (sp.ok() && !r.ok()) sp = writer_db_->Exec("ROLLBACK TO job");
      if (sp.ok()) sp = writer_db_->Exec("RELEASE job");
      if (!sp.ok()) {
        (void)writer_db_->Exec("ROLLBACK");
        return sp;
      }
      job_results.push_back(std::move(r));
      continue;
    }
    if (e.feedback) {
      auto out = WriteFeedback(*e.feedback);
      if (!out.ok()) {
        (void)writer_db_->Exec("ROLLBACK");
        return out.status();
      }
      outcomes.push_back(std::move(out).value());
      continue;
    }
    const PredictionRecord& r = e.prediction;
    ++predictions;
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
    BindOptional(stmt, 11, r.action);
    BindOptional(stmt, 12, r.propensity);
    auto step = stmt.Step();
    if (!step.ok()) {
      (void)writer_db_->Exec("ROLLBACK");
      return step.status();
    }
    (void)stmt.Reset();
  }
  RETURN_IF_ERROR(writer_db_->Exec("COMMIT"));
  written_.fetch_add(predictions);
  written_total_->Inc(static_cast<double>(predictions));
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

template <typename Fn>
auto PredictionLog::WithReader(Fn fn) -> decltype(fn(std::declval<SqliteDb&>())) {
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
  auto result = fn(*db);
  std::lock_guard lock(readers_mu_);
  readers_.push_back(std::move(db));
  return result;
}

StatusOr<std::optional<PredictionRecord>> PredictionLog::Lookup(const std::string& request_id) {
  return WithReader([&](SqliteDb& db) -> StatusOr<std::optional<PredictionRecord>> {
    ASSIGN_OR_RETURN(auto stmt,
                     db.Prepare("SELECT request_id, ts_ms, model, version, input_sha256, "
                                "input_text, label, confidence, top_k, latency_ms, action, "
                                "propensity FROM predictions WHERE request_id = ?"));
    stmt.BindText(1, request_id);
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return std::optional<PredictionRecord>();
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
    r.action = stmt.ColumnTextOrNull(10);
    if (stmt.ColumnTextOrNull(11)) r.propensity = stmt.ColumnDouble(11);
    return std::optional<PredictionRecord>(std::move(r));
  });
}

StatusOr<FeedbackRecord> PredictionLog::GetFeedback(const std::string& feedback_id) {
  return WithReader([&](SqliteDb& db) -> StatusOr<FeedbackRecord> {
    ASSIGN_OR_RETURN(auto stmt,
                     db.Prepare(std::string(kFeedbackColumns) + "WHERE feedback_id = ?"));
    stmt.BindText(1, feedback_id);
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return NotFound("no feedback with id '" + feedback_id + "'");
    return ReadFeedback(stmt);
  });
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
