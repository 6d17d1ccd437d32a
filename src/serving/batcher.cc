#include "serving/batcher.h"

#include <algorithm>

namespace closedloop {

BatchMetricFamilies BatchMetricFamilies::Register(MetricsRegistry& r) {
  std::vector<double> sizes = {1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024};
  return {r.AddHistogram("closedloop_batch_size", "Rows per batched backend call.",
                         {"model", "version"}, sizes),
          r.AddHistogram("closedloop_batch_queue_seconds",
                         "Time a request waited in its model's batch queue.", {"model", "version"}),
          r.AddHistogram("closedloop_batch_compute_seconds", "Time of one batched backend call.",
                         {"model", "version"}),
          r.AddGauge("closedloop_batch_queue_depth", "Requests waiting in a model's batch queue.",
                     {"model", "version"}),
          r.AddCounter("closedloop_batch_rejected_total",
                       "Requests refused because the model's batch queue was full.",
                       {"model", "version"})};
}

Batcher::Batcher(const Backend& backend, const BatchingConfig& config)
    : backend_(backend), config_(config) {}

Batcher::~Batcher() = default;

std::shared_ptr<Batcher> Batcher::Start(const Backend& backend, const BatchingConfig& config,
                                        const BatchMetricFamilies* metrics,
                                        const std::string& model, const std::string& version,
                                        InferenceStats* stats) {
  std::shared_ptr<Batcher> b(new Batcher(backend, config));
  b->stats_ = stats;
  if (metrics != nullptr) {
    b->batch_size_ = &metrics->batch_size->Labels({model, version});
    b->queue_seconds_ = &metrics->queue_seconds->Labels({model, version});
    b->compute_seconds_ = &metrics->compute_seconds->Labels({model, version});
    b->queue_depth_ = &metrics->queue_depth->Labels({model, version});
    b->rejected_ = &metrics->rejected->Labels({model, version});
  }
  // The thread owns a reference: the Batcher outlives Stop() called from its own thread.
  std::thread t([self = b] { self->Run(); });
  {
    std::lock_guard lock(b->mu_);
    b->thread_id_ = t.get_id();
  }
  t.detach();
  return b;
}

Status Batcher::Submit(std::vector<Tensor> inputs, Done done, BatchTiming* timing) {
  Pending p;
  std::sort(inputs.begin(), inputs.end(),
            [](const Tensor& a, const Tensor& b) { return a.name < b.name; });
  for (const Tensor& t : inputs) {
    p.signature += t.name + ":" + std::string(DataTypeName(t.datatype));
    for (size_t d = 1; d < t.shape.size(); ++d) p.signature += "," + std::to_string(t.shape[d]);
    if (t.shape.empty()) p.signature += "#scalar";  // never merged with others
    p.signature += ";";
  }
  p.rows = inputs.empty() || inputs[0].shape.empty() ? 1 : std::max<int64_t>(1, inputs[0].shape[0]);
  p.inputs = std::move(inputs);
  p.done = std::move(done);
  p.enqueued = std::chrono::steady_clock::now();
  p.timing = timing;
  if (timing) timing->enqueued = p.enqueued;
  {
    std::lock_guard lock(mu_);
    if (stop_) return Unavailable("the model is being unloaded");
    if (static_cast<int>(queue_.size()) >= config_.max_queue_size) {
      if (rejected_) rejected_->Inc();
      return ResourceExhausted("the model's batch queue is full (" +
                               std::to_string(config_.max_queue_size) + " requests); retry later");
    }
    queue_.push_back(std::move(p));
    if (queue_depth_) queue_depth_->Set(static_cast<double>(queue_.size()));
  }
  cv_.notify_one();
  return OkStatus();
}

void Batcher::Stop() {
  std::unique_lock lock(mu_);
  stop_ = true;
  cv_.notify_all();
  if (std::this_thread::get_id() == thread_id_) return;  // the thread ends after this batch
  cv_.wait(lock, [this] { return exited_; });
}

int64_t Batcher::RowsLike(const std::string& signature) const {
  int64_t rows = 0;
  for (const Pending& p : queue_) {
    if (p.signature == signature) rows += p.rows;
  }
  return rows;
}

void Batcher::Run() {
  std::unique_lock lock(mu_);
  const auto delay = std::chrono::microseconds(config_.max_queue_delay_us);
  for (;;) {
    cv_.wait(lock, [this] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) break;  // stop_ and nothing left
    // Wait for a full batch of the oldest request's shape, or its deadline.
    const std::string signature = queue_.front().signature;
    const auto deadline = queue_.front().enqueued + delay;
    while (!stop_ && RowsLike(signature) < config_.max_batch_size &&
           std::chrono::steady_clock::now() < deadline) {
      cv_.wait_until(lock, deadline);
    }
    std::vector<Pending> batch;
    int64_t rows = 0;
    for (auto it = queue_.begin(); it != queue_.end();) {
      if (it->signature == signature &&
          (batch.empty() || rows + it->rows <= config_.max_batch_size)) {
        rows += it->rows;
        batch.push_back(std::move(*it));
        it = queue_.erase(it);
      } else {
        ++it;
      }
    }
    if (queue_depth_) queue_depth_->Set(static_cast<double>(queue_.size()));
    lock.unlock();
    Execute(batch);
    batch.clear();  // callbacks (and what they hold) are released off the lock
    lock.lock();
  }
  exited_ = true;
  cv_.notify_all();
}

void Batcher::Execute(std::vector<Pending>& batch) {
  auto start = std::chrono::steady_clock::now();
  int64_t total = 0;
  for (const Pending& p : batch) {
    total += p.rows;
    if (queue_seconds_)
      queue_seconds_->Observe(std::chrono::duration<double>(start - p.enqueued).count());
  }
  if (batch_size_) batch_size_->Observe(static_cast<double>(total));
  auto finished = [this, &batch, start, total] {
    auto end = std::chrono::steady_clock::now();
    if (stats_) {
      stats_->RecordExecution(static_cast<uint64_t>(total), 0,
                              static_cast<uint64_t>(std::chrono::nanoseconds(end - start).count()),
                              0);
    }
    for (Pending& p : batch) {
      if (p.timing) {
        p.timing->started = start;
        p.timing->finished = end;
      }
    }
    return end;
  };
  if (batch.size() == 1) {
    auto out = backend_.Infer(batch[0].inputs);
    auto end = finished();
    if (compute_seconds_)
      compute_seconds_->Observe(std::chrono::duration<double>(end - start).count());
    batch[0].done(std::move(out));
    return;
  }
  std::vector<Tensor> merged;
  for (size_t i = 0; i < batch[0].inputs.size(); ++i) {
    std::vector<const Tensor*> parts;
    for (const Pending& p : batch) parts.push_back(&p.inputs[i]);
    merged.push_back(ConcatRows(parts));
  }
  auto out = backend_.Infer(merged);
  auto end = finished();
  if (compute_seconds_)
    compute_seconds_->Observe(std::chrono::duration<double>(end - start).count());
  int64_t begin = 0;
  for (Pending& p : batch) {
    if (!out.ok()) {
      p.done(out.status());
      continue;
    }
    std::vector<Tensor> mine;
    for (const Tensor& t : *out) {
      bool batched = !t.shape.empty() && t.shape[0] == total;
      mine.push_back(batched ? SliceRows(t, begin, p.rows) : t);
    }
    begin += p.rows;
    p.done(std::move(mine));
  }
}

Tensor ConcatRows(const std::vector<const Tensor*>& parts) {
  Tensor out{parts[0]->name, parts[0]->datatype, parts[0]->shape, {}};
  out.shape[0] = 0;
  out.values = std::visit([](const auto& v) { return TensorValues(std::decay_t<decltype(v)>()); },
                          parts[0]->values);
  for (const Tensor* p : parts) {
    out.shape[0] += p->shape[0];
    std::visit(
        [&out](const auto& src) {
          auto& dst = std::get<std::decay_t<decltype(src)>>(out.values);
          dst.insert(dst.end(), src.begin(), src.end());
        },
        p->values);
  }
  return out;
}

Tensor SliceRows(const Tensor& t, int64_t begin, int64_t rows) {
  Tensor out{t.name, t.datatype, t.shape, {}};
  out.shape[0] = rows;
  const size_t per_row = t.shape[0] > 0 ? t.size() / static_cast<size_t>(t.shape[0]) : 0;
  out.values = std::visit(
      [&](const auto& v) {
        using V = std::decay_t<decltype(v)>;
        auto first = v.begin() + static_cast<long>(static_cast<size_t>(begin) * per_row);
        return TensorValues(
            V(first, first + static_cast<long>(static_cast<size_t>(rows) * per_row)));
      },
      t.values);
  return out;
}

}  // namespace closedloop
