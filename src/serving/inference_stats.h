// InferenceStats: the statistics of one model version that Triton's statistics
// extension reports (GET /v2/models/{m}/stats), kept by the code that serves it.
//
//   inference_count   rows inferred (a request of batch 4 counts 4)
//   execution_count   backend executions (a dynamic batch of 8 requests counts 1)
//   success / fail    requests and their whole handling time, parse to answer
//   queue             time successful requests waited in the dynamic batcher
//   compute_input     time spent preparing inputs (parsing and checking the request)
//   compute_infer     time in the backend
//   compute_output    time building the answer (selecting, classifying, serializing)
//   batch_stats       per executed batch size: executions and their compute times
//
// Times are nanoseconds of the monotonic clock; last_inference is Unix milliseconds.
// Thread safety: every Record* is lock-free (relaxed atomics) and may run from any
// thread; Read() gives a consistent-enough view (counters are read one by one). Batch
// sizes up to kTrackedBatchSizes use atomics, larger ones (rare: a single request with
// a huge batch) a mutex of this object only.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <vector>

namespace closedloop {

struct DurationStat {
  uint64_t count = 0;
  uint64_t ns = 0;
};

struct BatchStat {
  uint64_t batch_size = 0;
  DurationStat compute_input, compute_infer, compute_output;
};

struct InferenceStatsView {
  int64_t last_inference_ms = 0;
  uint64_t inference_count = 0;
  uint64_t execution_count = 0;
  DurationStat success, fail, queue, compute_input, compute_infer, compute_output;
  std::vector<BatchStat> batch_stats;  // ascending batch size, executed sizes only
};

// Per-request times of one successful inference (ns).
struct RequestTimes {
  uint64_t rows = 1;
  uint64_t total_ns = 0, queue_ns = 0, input_ns = 0, infer_ns = 0, output_ns = 0;
};

class InferenceStats {
 public:
  static constexpr size_t kTrackedBatchSizes = 256;

  void RecordSuccess(const RequestTimes& t, int64_t now_ms);
  void RecordFailure(uint64_t total_ns, int64_t now_ms);
  // One backend execution over `batch_size` rows.
  void RecordExecution(uint64_t batch_size, uint64_t input_ns, uint64_t infer_ns,
                       uint64_t output_ns);
  InferenceStatsView Read() const;

 private:
  struct AtomicDuration {
    std::atomic<uint64_t> count{0}, ns{0};
    void Add(uint64_t n) {
      count.fetch_add(1, std::memory_order_relaxed);
      ns.fetch_add(n, std::memory_order_relaxed);
    }
    DurationStat Load() const {
      return {count.load(std::memory_order_relaxed), ns.load(std::memory_order_relaxed)};
    }
  };
  struct AtomicBatch {
    AtomicDuration input, infer, output;
  };

  std::atomic<int64_t> last_inference_ms_{0};
  std::atomic<uint64_t> inference_count_{0}, execution_count_{0};
  AtomicDuration success_, fail_, queue_, input_, infer_, output_;
  std::array<AtomicBatch, kTrackedBatchSizes> batches_;  // index: batch size - 1
  mutable std::mutex large_mu_;                          // guards large_
  std::map<uint64_t, BatchStat> large_;                  // batch sizes > kTrackedBatchSizes
};

}  // namespace closedloop
