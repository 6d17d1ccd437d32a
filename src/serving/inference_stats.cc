#include "serving/inference_stats.h"

namespace closedloop {

void InferenceStats::RecordSuccess(const RequestTimes& t, int64_t now_ms) {
  last_inference_ms_.store(now_ms, std::memory_order_relaxed);
  inference_count_.fetch_add(t.rows, std::memory_order_relaxed);
  success_.Add(t.total_ns);
  queue_.Add(t.queue_ns);
  input_.Add(t.input_ns);
  infer_.Add(t.infer_ns);
  output_.Add(t.output_ns);
}

void InferenceStats::RecordFailure(uint64_t total_ns, int64_t now_ms) {
  last_inference_ms_.store(now_ms, std::memory_order_relaxed);
  fail_.Add(total_ns);
}

void InferenceStats::RecordExecution(uint64_t batch_size, uint64_t input_ns, uint64_t infer_ns,
                                     uint64_t output_ns) {
  execution_count_.fetch_add(1, std::memory_order_relaxed);
  if (batch_size == 0) return;
  if (batch_size <= kTrackedBatchSizes) {
    AtomicBatch& b = batches_[batch_size - 1];
    b.input.Add(input_ns);
    b.infer.Add(infer_ns);
    b.output.Add(output_ns);
    return;
  }
  std::lock_guard lock(large_mu_);
  BatchStat& b = large_[batch_size];
  b.batch_size = batch_size;
  for (auto [stat, ns] :
       {std::pair{&b.compute_input, input_ns}, std::pair{&b.compute_infer, infer_ns},
        std::pair{&b.compute_output, output_ns}}) {
    stat->count += 1;
    stat->ns += ns;
  }
}

InferenceStatsView InferenceStats::Read() const {
  InferenceStatsView v;
  v.last_inference_ms = last_inference_ms_.load(std::memory_order_relaxed);
  v.inference_count = inference_count_.load(std::memory_order_relaxed);
  v.execution_count = execution_count_.load(std::memory_order_relaxed);
  v.success = success_.Load();
  v.fail = fail_.Load();
  v.queue = queue_.Load();
  v.compute_input = input_.Load();
  v.compute_infer = infer_.Load();
  v.compute_output = output_.Load();
  for (size_t i = 0; i < batches_.size(); ++i) {
    const AtomicBatch& b = batches_[i];
    BatchStat s{i + 1, b.input.Load(), b.infer.Load(), b.output.Load()};
    if (s.compute_infer.count > 0) v.batch_stats.push_back(s);
  }
  std::lock_guard lock(large_mu_);
  for (const auto& [size, s] : large_) v.batch_stats.push_back(s);
  return v;
}

}  // namespace closedloop
