// PredictionLog: every prediction, and the feedback about it, stored in SQLite
// (WAL) by one background writer that commits in groups (one transaction per batch).
//
// AppendFeedback() shares the group commit: the feedback's callback runs after the
// transaction that holds it committed (so an HTTP answer sent from it means the
// feedback is durable), with NotFound when no prediction has its request_id, or the
// first stored record when its idempotency key was seen before. A prediction is
// always appended before its response is sent, so the feedback that follows it
// finds it (same batch or an earlier one).
//
// Append() is called on the request path and never blocks: it moves the record
// into a bounded lock-free queue. If the queue is full the record is dropped,
// counted in closedloop_prediction_log_dropped_total and logged; the request
// still succeeds. Everything appended before Stop() is committed by Stop().
//
// Durability: WAL with synchronous=NORMAL: a committed record survives a crash
// or kill of the process (not necessarily a power loss).
// Thread safety: Append/Flush/Get from any thread; Stop from one thread.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/config.h"
#include "core/mpmc_queue.h"
#include "core/status.h"
#include "monitor/metrics.h"
#include "store/feedback_record.h"
#include "store/sqlite_db.h"

namespace closedloop {

struct PredictionRecord {
  std::string request_id;  // ULID, primary key
  int64_t ts_ms = 0;       // Unix milliseconds
  std::string model;
  std::string version;
  std::string input_sha256;
  std::optional<std::string> input_text;  // only when store_inputs = true
  std::string label;
  double confidence = 0;
  std::string top_k_json;  // [{"label":..,"p":..},..]
  double latency_ms = 0;
  // What was done with the prediction (the support app: the intent whose reply was
  // sent, or "escalate") and the probability the serving policy had of doing it.
  std::optional<std::string> action;
  std::optional<double> propensity;
};

class PredictionLog {
 public:
  // Opens/creates the database, applies migrations and starts the writer.
  static StatusOr<std::unique_ptr<PredictionLog>> Open(const PredictionLogConfig& config,
                                                       const std::string& path,
                                                       MetricsRegistry& metrics);
  ~PredictionLog();

  // Never blocks. False: the queue was full and the record was dropped (counted, logged).
  bool Append(PredictionRecord& record);
  // Never blocks. False: the queue was full (the callback is not called; answer 503).
  bool AppendFeedback(FeedbackRecord record, FeedbackCallback done);
  // A stored feedback record by id (committed ones only).
  StatusOr<FeedbackRecord> GetFeedback(const std::string& feedback_id);
  // Other writes that share the group commit (e.g. the support app's escalations):
  // `work` runs on the writer thread inside the batch's transaction, under its own
  // savepoint (a non-OK result undoes just its writes); `done` gets that result once
  // the batch committed (or the commit's error). Never blocks; false: queue full.
  using Job = std::function<Status(SqliteDb&)>;
  bool AppendJob(Job work, std::function<void(Status)> done);
  // Runs `read` on a pooled read-only connection (committed data only).
  Status Read(const std::function<Status(SqliteDb&)>& read);
  // Waits until everything appended before the call is committed. False on timeout.
  bool Flush(std::chrono::milliseconds timeout);
  // A committed record; records still queued are flushed first, so a prediction
  // can be read back as soon as its response was sent.
  StatusOr<PredictionRecord> Get(const std::string& request_id);
  // Commits everything queued and stops the writer. Idempotent.
  void Stop();

  bool running() const { return running_.load(); }
  uint64_t written() const { return written_.load(); }
  uint64_t dropped() const { return dropped_.load(); }

 private:
  PredictionLog(const PredictionLogConfig& config, std::string path,
                std::unique_ptr<SqliteDb> writer_db, MetricsRegistry& metrics);
  // One queue slot: a prediction, or a feedback with its completion.
  struct Entry {
    PredictionRecord prediction;
    std::optional<FeedbackRecord> feedback;
    FeedbackCallback done;
    Job job;
    std::function<void(Status)> job_done;
  };
  void WriterLoop();
  // Writes the batch in one transaction; feedback outcomes are collected in
  // `outcomes` (index-aligned with the batch's feedback entries) for after the commit.
  Status WriteBatch(std::vector<Entry>& batch, std::vector<FeedbackOutcome>& outcomes,
                    std::vector<Status>& job_results);
  StatusOr<FeedbackOutcome> WriteFeedback(FeedbackRecord& f);  // inside the transaction
  template <typename Fn>
  auto WithReader(Fn fn) -> decltype(fn(std::declval<SqliteDb&>()));
  StatusOr<std::optional<PredictionRecord>> Lookup(const std::string& request_id);

  const PredictionLogConfig config_;
  const std::string path_;
  std::unique_ptr<SqliteDb> writer_db_;  // used only by the writer thread
  BoundedMpmcQueue<Entry> queue_;

  std::mutex mu_;  // guards the fields below and wakes writer/flushers; never taken by Append
  std::condition_variable wake_writer_;
  std::condition_variable committed_cv_;
  bool stop_requested_ = false;
  size_t committed_position_ = 0;  // queue tickets [0, this) are committed or failed

  std::mutex readers_mu_;  // guards readers_: pooled read-only connections for Get()
  std::vector<std::unique_ptr<SqliteDb>> readers_;

  std::atomic<bool> running_{false};
  std::atomic<uint64_t> written_{0};
  std::atomic<uint64_t> dropped_{0};
  Counter* written_total_;
  Counter* dropped_total_;
  Counter* write_errors_total_;
  Gauge* queue_depth_;
  Histogram* commit_seconds_;
  Histogram* batch_size_;
  std::thread writer_;
};

}  // namespace closedloop
