#include "serving/batcher.h"

#include <gtest/gtest.h>

#include <condition_variable>

#include "serving/onnx_backend.h"
#include "support/onnx_models.h"
#include "support/temp_dir.h"

namespace closedloop {
namespace {

// Waits (with a deadline) until `n` callbacks have run.
class Latch {
 public:
  void CountDown() {
    std::lock_guard lock(mu_);
    ++count_;
    cv_.notify_all();
  }
  bool Wait(int n) {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(20), [&] { return count_ >= n; });
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  int count_ = 0;
};

class BatcherTest : public ::testing::Test {
 protected:
  void SetUp() override {
    mlp_ = testing::WriteMlpModel(dir_.File("mlp.onnx"));
    backend_ = std::move(OnnxBackend::Load(dir_.File("mlp.onnx"), {}).value());
    families_ = BatchMetricFamilies::Register(metrics_);
  }
  static std::vector<float> Row(int i) { return {0.1f * i, -0.2f * i, 1.0f, 0.5f - 0.1f * i}; }
  testing::TempDir dir_;
  testing::Mlp mlp_;
  std::unique_ptr<OnnxBackend> backend_;
  MetricsRegistry metrics_;
  BatchMetricFamilies families_;
};

TEST_F(BatcherTest, RequestsAreMergedIntoOneBatchAndSplitBack) {
  BatchingConfig config{8, 10'000'000, 100};  // wait (up to 10 s) for 8 rows
  auto b = Batcher::Start(*backend_, config, &families_, "mlp", "1");
  Latch latch;
  std::vector<std::vector<float>> got(8);
  for (int i = 0; i < 8; ++i) {
    ASSERT_TRUE(b->Submit({Tensor{"X", DataType::kFp32, {1, 4}, Row(i)}},
                          [&, i](StatusOr<std::vector<Tensor>> out) {
                            ASSERT_TRUE(out.ok());
                            EXPECT_EQ((*out)[0].shape, (std::vector<int64_t>{1, 3}));
                            got[i] = *(*out)[0].As<float>();
                            latch.CountDown();
                          })
                    .ok());
  }
  ASSERT_TRUE(latch.Wait(8));
  for (int i = 0; i < 8; ++i) {
    auto want = testing::MlpReference(mlp_, Row(i), 1);
    for (int j = 0; j < 3; ++j) EXPECT_NEAR(got[i][j], want[j], 1e-5);
  }
  auto& sizes = families_.batch_size->Labels({"mlp", "1"});
  EXPECT_EQ(sizes.Count(), 1u);  // one backend call
  EXPECT_EQ(sizes.Sum(), 8);
  b->Stop();
}

TEST_F(BatcherTest, DelayBoundsTheWaitAndFullQueueRefuses) {
  BatchingConfig quick{100, 1000, 100};  // 1 ms delay, never 100 rows
  auto b = Batcher::Start(*backend_, quick, &families_, "mlp", "1");
  Latch latch;
  ASSERT_TRUE(b->Submit({Tensor{"X", DataType::kFp32, {2, 4}, std::vector<float>(8, 0.5f)}},
                        [&](StatusOr<std::vector<Tensor>> out) {
                          EXPECT_TRUE(out.ok());
                          EXPECT_EQ((*out)[0].shape[0], 2);
                          latch.CountDown();
                        })
                  .ok());
  ASSERT_TRUE(latch.Wait(1));
  b->Stop();

  BatchingConfig tiny{100, 10'000'000, 2};  // holds requests; room for 2
  auto full = Batcher::Start(*backend_, tiny, &families_, "mlp", "2");
  Latch done;
  for (int i = 0; i < 2; ++i) {
    ASSERT_TRUE(full->Submit({Tensor{"X", DataType::kFp32, {1, 4}, Row(i)}},
                             [&](StatusOr<std::vector<Tensor>>) { done.CountDown(); })
                    .ok());
  }
  Status third = full->Submit({Tensor{"X", DataType::kFp32, {1, 4}, Row(3)}},
                              [&](StatusOr<std::vector<Tensor>>) { done.CountDown(); });
  EXPECT_EQ(third.code(), StatusCode::kResourceExhausted);
  EXPECT_EQ(families_.rejected->Labels({"mlp", "2"}).Value(), 1);
  full->Stop();  // finishes the two queued requests
  EXPECT_TRUE(done.Wait(2));
}

TEST(BatchTensorsTest, ConcatAndSliceRows) {
  Tensor a{"t", DataType::kBytes, {1}, std::vector<std::string>{"x"}};
  Tensor b{"t", DataType::kBytes, {2}, std::vector<std::string>{"y", "z"}};
  Tensor c = ConcatRows({&a, &b});
  EXPECT_EQ(c.shape, (std::vector<int64_t>{3}));
  EXPECT_EQ(*c.As<std::string>(), (std::vector<std::string>{"x", "y", "z"}));
  Tensor m{"m", DataType::kFp32, {3, 2}, std::vector<float>{1, 2, 3, 4, 5, 6}};
  Tensor s = SliceRows(m, 1, 2);
  EXPECT_EQ(s.shape, (std::vector<int64_t>{2, 2}));
  EXPECT_EQ(*s.As<float>(), (std::vector<float>{3, 4, 5, 6}));
}

}  // namespace
}  // namespace closedloop
