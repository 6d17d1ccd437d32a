#include "core/config.h"

#include <gtest/gtest.h>

namespace closedloop {
namespace {

TEST(ConfigTest, DefaultsWithoutFile) {
  auto c = ParseConfig("", "empty.toml");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->server.host, "127.0.0.1");
  EXPECT_EQ(c->server.port, 4000);
  EXPECT_EQ(c->ModelRepositoryPath(), "./closedloop-data/models");
  EXPECT_EQ(c->PredictionLogPath(), "./closedloop-data/predictions.db");
  EXPECT_TRUE(c->prediction_log.store_inputs);
}

TEST(ConfigTest, ReadsEverySection) {
  auto c = ParseConfig(R"(
data_dir = "/var/lib/cl"
[server]
listen = "0.0.0.0:8080"
workers = 3
body_limit_bytes = 2048
header_timeout_ms = 100
body_timeout_ms = 200
drain_timeout_ms = 300
[serving]
max_text_bytes = 50
[prediction_log]
store_inputs = false
queue_capacity = 16
max_batch = 8
flush_interval_ms = 1
[logging]
level = "debug"
format = "json"
)",
                       "full.toml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->data_dir, "/var/lib/cl");
  EXPECT_EQ(c->server.host, "0.0.0.0");
  EXPECT_EQ(c->server.port, 8080);
  EXPECT_EQ(c->server.workers, 3);
  EXPECT_EQ(c->server.body_limit_bytes, 2048u);
  EXPECT_EQ(c->server.header_timeout_ms, 100);
  EXPECT_EQ(c->server.drain_timeout_ms, 300);
  EXPECT_EQ(c->serving.max_text_bytes, 50u);
  EXPECT_FALSE(c->prediction_log.store_inputs);
  EXPECT_EQ(c->prediction_log.queue_capacity, 16u);
  EXPECT_EQ(c->logging.level, "debug");
  EXPECT_EQ(c->logging.format, LogFormat::kJson);
  EXPECT_EQ(c->PredictionLogPath(), "/var/lib/cl/predictions.db");
}

TEST(ConfigTest, ErrorsNameTheKey) {
  auto typo = ParseConfig("[server]\nlisten_on = \"x\"\n", "t.toml");
  ASSERT_FALSE(typo.ok());
  EXPECT_NE(typo.status().message().find("server.listen_on"), std::string::npos);

  auto type = ParseConfig("[server]\nworkers = \"two\"\n", "t.toml");
  ASSERT_FALSE(type.ok());
  EXPECT_NE(type.status().message().find("server.workers"), std::string::npos);

  auto syntax = ParseConfig("[server\n", "bad.toml");
  ASSERT_FALSE(syntax.ok());
  EXPECT_NE(syntax.status().message().find("bad.toml:1"), std::string::npos);

  auto fmt = ParseConfig("[logging]\nformat = \"xml\"\n", "t.toml");
  EXPECT_FALSE(fmt.ok());
}

TEST(ConfigTest, GatewayPipelineDepth) {
  auto c = ParseConfig("[gateway]\npipeline_depth = 8\n", "g.toml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->gateway.pipeline_depth, 8u);
  EXPECT_EQ(ParseConfig("", "empty.toml")->gateway.pipeline_depth, 4u);
  for (const char* bad : {"pipeline_depth = 0", "pipeline_depth = 65"}) {
    auto r = ParseConfig(std::string("[gateway]\n") + bad + "\n", "g.toml");
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_NE(r.status().message().find("gateway.pipeline_depth"), std::string::npos) << bad;
  }
}

TEST(ConfigTest, ListenAddress) {
  ServerConfig s;
  ASSERT_TRUE(ParseListenAddress("127.0.0.1:0", s).ok());
  EXPECT_EQ(s.port, 0);
  EXPECT_FALSE(ParseListenAddress("127.0.0.1", s).ok());
  EXPECT_FALSE(ParseListenAddress("127.0.0.1:70000", s).ok());
  EXPECT_FALSE(ParseListenAddress("127.0.0.1:80x", s).ok());
}

TEST(ConfigTest, MissingFile) {
  auto c = LoadConfigFile("/nonexistent/closedloop.toml");
  ASSERT_FALSE(c.ok());
  EXPECT_EQ(c.status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace closedloop
