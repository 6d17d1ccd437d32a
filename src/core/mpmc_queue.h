// BoundedMpmcQueue<T>: a fixed-capacity, lock-free multi-producer multi-consumer
// FIFO (Dmitry Vyukov's bounded queue design: one sequence number per cell).
//
// TryPush never blocks and never allocates: when the queue is full it returns
// false and leaves `value` untouched. Items come out in the order of their
// tickets (EnqueuePosition counts tickets handed out), which lets a consumer
// promise "everything enqueued before position P has been processed".
// Capacity is rounded up to a power of two. Thread safety: all methods.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <utility>

namespace closedloop {

template <typename T>
class BoundedMpmcQueue {
 public:
  explicit BoundedMpmcQueue(size_t capacity) {
    size_t n = 2;
    while (n < capacity) n <<= 1;
    mask_ = n - 1;
    cells_ = std::make_unique<Cell[]>(n);
    for (size_t i = 0; i < n; ++i) cells_[i].seq.store(i, std::memory_order_relaxed);
  }

  bool TryPush(T& value) {
    size_t pos = enqueue_.load(std::memory_order_relaxed);
    Cell* cell;
    for (;;) {
      cell = &cells_[pos & mask_];
      size_t seq = cell->seq.load(std::memory_order_acquire);
      auto diff = static_cast<intptr_t>(seq) - static_cast<intptr_t>(pos);
      if (diff == 0) {
        if (enqueue_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (diff < 0) {
        return false;  // full
      } else {
        pos = enqueue_.load(std::memory_order_relaxed);
      }
    }
    cell->value = std::move(value);
    cell->seq.store(pos + 1, std::memory_order_release);
    return true;
  }

  bool TryPop(T& out) {
    size_t pos = dequeue_.load(std::memory_order_relaxed);
    Cell* cell;
    for (;;) {
      cell = &cells_[pos & mask_];
      size_t seq = cell->seq.load(std::memory_order_acquire);
      auto diff = static_cast<intptr_t>(seq) - static_cast<intptr_t>(pos + 1);
      if (diff == 0) {
        if (dequeue_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) break;
      } else if (diff < 0) {
        return false;  // empty (or the producer of this ticket has not finished)
      } else {
        pos = dequeue_.load(std::memory_order_relaxed);
      }
    }
    out = std::move(cell->value);
    cell->value = T();
    cell->seq.store(pos + mask_ + 1, std::memory_order_release);
    return true;
  }

  size_t capacity() const { return mask_ + 1; }
  // Tickets handed out so far (pushes that succeeded or are completing).
  size_t EnqueuePosition() const { return enqueue_.load(std::memory_order_acquire); }
  size_t ApproxSize() const {
    size_t e = enqueue_.load(std::memory_order_relaxed);
    size_t d = dequeue_.load(std::memory_order_relaxed);
    return e > d ? e - d : 0;
  }

 private:
  struct Cell {
    std::atomic<size_t> seq;
    T value;
  };
  std::unique_ptr<Cell[]> cells_;
  size_t mask_ = 0;
  alignas(64) std::atomic<size_t> enqueue_{0};
  alignas(64) std::atomic<size_t> dequeue_{0};
};

}  // namespace closedloop
