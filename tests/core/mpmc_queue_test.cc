#include "core/mpmc_queue.h"

#include <gtest/gtest.h>

#include <thread>

namespace closedloop {
namespace {

TEST(MpmcQueueTest, BoundedFifo) {
  BoundedMpmcQueue<int> q(4);
  EXPECT_EQ(q.capacity(), 4u);
  for (int i = 0; i < 4; ++i) {
    int v = i;
    ASSERT_TRUE(q.TryPush(v));
  }
  int extra = 99;
  EXPECT_FALSE(q.TryPush(extra));
  EXPECT_EQ(extra, 99);  // untouched on failure
  for (int i = 0; i < 4; ++i) {
    int v = -1;
    ASSERT_TRUE(q.TryPop(v));
    EXPECT_EQ(v, i);
  }
  int v;
  EXPECT_FALSE(q.TryPop(v));
  EXPECT_EQ(q.EnqueuePosition(), 4u);
}

TEST(MpmcQueueTest, ConcurrentProducersAndConsumerLoseNothing) {
  BoundedMpmcQueue<int64_t> q(1024);
  constexpr int kPerProducer = 100000;
  std::atomic<int64_t> sum{0};
  std::atomic<int> consumed{0};
  std::thread consumer([&] {
    int64_t v;
    while (consumed.load() < 3 * kPerProducer) {
      if (q.TryPop(v)) {
        sum += v;
        ++consumed;
      }
    }
  });
  std::vector<std::thread> producers;
  for (int p = 0; p < 3; ++p) {
    producers.emplace_back([&] {
      for (int64_t i = 1; i <= kPerProducer; ++i) {
        int64_t v = i;
        while (!q.TryPush(v)) {
        }
      }
    });
  }
  for (auto& t : producers) t.join();
  consumer.join();
  EXPECT_EQ(sum.load(), 3 * (int64_t{kPerProducer} * (kPerProducer + 1) / 2));
}

}  // namespace
}  // namespace closedloop
