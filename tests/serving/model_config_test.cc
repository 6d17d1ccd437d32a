#include "serving/model_config.h"

#include <gtest/gtest.h>

namespace closedloop {
namespace {

TEST(ModelConfigTest, RoundTrip) {
  ModelConfig c;
  c.flavor = "fasttext";
  c.top_k = 3;
  c.labels = {"a", "b"};
  c.max_text_bytes = 100;
  c.batching.max_batch_size = 16;
  c.batching.max_queue_delay_us = 250;
  auto back = ParseModelConfig(RenderModelConfig(c), "config.toml");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->flavor, "fasttext");
  EXPECT_EQ(back->top_k, 3);
  EXPECT_EQ(back->labels, c.labels);
  EXPECT_EQ(back->max_text_bytes, 100);
  EXPECT_EQ(back->batching.max_batch_size, 16);
  EXPECT_EQ(back->batching.max_queue_delay_us, 250);
}

TEST(ModelConfigTest, ClearErrors) {
  EXPECT_NE(ParseModelConfig("top_k = 3", "c").status().message().find("'flavor'"),
            std::string::npos);
  EXPECT_NE(
      ParseModelConfig("flavor='fasttext'\ntop_k = 0", "c").status().message().find("'top_k'"),
      std::string::npos);
  EXPECT_NE(
      ParseModelConfig("flavor='fasttext'\nlabel = []", "c").status().message().find("'label'"),
      std::string::npos);
  EXPECT_NE(ParseModelConfig("flavor='fasttext'\n[batching]\nmax_batch = 2", "c")
                .status()
                .message()
                .find("batching.max_batch"),
            std::string::npos);
}

}  // namespace
}  // namespace closedloop
