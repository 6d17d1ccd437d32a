// Batcher: dynamic batching for one model version (Triton's dynamic batcher).
//
// Submit() queues one request's inputs (batch dimension first) and returns at
// once; a batcher thread takes the oldest request plus every queued request of
// the same non-batch shape, up to max_batch_size rows, waiting at most
// max_queue_delay_us after the oldest arrived, runs the backend once on the
// concatenation and hands each request its slice of the outputs. The queue holds
// at most max_queue_size requests; beyond that Submit fails at once
// (ResourceExhausted), so memory stays bounded under overload.
//
// Thread safety: Submit from any thread (a per-model mutex guards the queue; no
// lock is shared between models). `done` runs on the batcher thread and must not
// block. Lifetime: the backend must outlive every queued request (callers keep
// their ModelVersion alive until `done`); Stop() finishes queued work, then the
// thread exits.
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "monitor/metrics.h"
#include "serving/backend.h"
#include "serving/inference_stats.h"
#include "serving/model_config.h"

namespace closedloop {

// Metric families shared by all batchers (labels: model, version).
struct BatchMetricFamilies {
  Family<Histogram>* batch_size;     // rows per backend call
  Family<Histogram>* queue_seconds;  // time a request waited in the queue
  Family<Histogram>* compute_seconds;
  Family<Gauge>* queue_depth;
  Family<Counter>* rejected;  // requests refused because the queue was full
  static BatchMetricFamilies Register(MetricsRegistry& registry);
};

// When a request waited and ran (for its trace spans); filled before `done` runs.
struct BatchTiming {
  std::chrono::steady_clock::time_point enqueued, started, finished;
};

class Batcher : public std::enable_shared_from_this<Batcher> {
 public:
  using Done = std::function<void(StatusOr<std::vector<Tensor>>)>;
  static std::shared_ptr<Batcher> Start(const Backend& backend, const BatchingConfig& config,
                                        const BatchMetricFamilies* metrics,
                                        const std::string& model, const std::string& version,
                                        InferenceStats* stats = nullptr);
  ~Batcher();

  // `timing`, if given, must stay valid until `done` has run.
  Status Submit(std::vector<Tensor> inputs, Done done, BatchTiming* timing = nullptr);
  // Finishes queued work and ends the thread; waits for it unless called on it.
  void Stop();

 private:
  struct Pending {
    std::vector<Tensor> inputs;  // sorted by name
    Done done;
    BatchTiming* timing = nullptr;
    std::chrono::steady_clock::time_point enqueued;
    int64_t rows = 1;
    std::string signature;  // names, datatypes and non-batch dimensions
  };
  Batcher(const Backend& backend, const BatchingConfig& config);
  void Run();
  void Execute(std::vector<Pending>& batch);
  int64_t RowsLike(const std::string& signature) const;  // requires mu_

  const Backend& backend_;
  const BatchingConfig config_;
  Histogram* batch_size_ = nullptr;
  Histogram* queue_seconds_ = nullptr;
  Histogram* compute_seconds_ = nullptr;
  Gauge* queue_depth_ = nullptr;
  Counter* rejected_ = nullptr;
  InferenceStats* stats_ = nullptr;  // the version's; outlives the batcher (ModelVersion order)

  std::mutex mu_;  // guards the fields below
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  bool stop_ = false;
  bool exited_ = false;
  std::thread::id thread_id_;
};

// Concatenates tensors along dimension 0 (same name, datatype, trailing dims).
Tensor ConcatRows(const std::vector<const Tensor*>& parts);
// Rows [begin, begin + rows) of a tensor whose dimension 0 is the batch.
Tensor SliceRows(const Tensor& t, int64_t begin, int64_t rows);

}  // namespace closedloop
