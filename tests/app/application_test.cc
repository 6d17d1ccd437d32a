#include "app/application.h"

#include <gtest/gtest.h>

#include "support/http_client.h"
#include "support/temp_dir.h"

namespace closedloop {
namespace {

TEST(ApplicationTest, ReadyWhileServingNotReadyOnceShutdownBegins) {
  testing::TempDir dir;
  testing::InstallTestModel(dir.path());
  Config config;
  config.data_dir = dir.path();
  config.server.port = 0;
  config.server.workers = 1;
  auto app = Application::Create(config, SystemClock::Get());
  ASSERT_TRUE(app.ok()) << app.status().message();
  ASSERT_TRUE((*app)->Start().ok());
  EXPECT_TRUE((*app)->ready());
  EXPECT_EQ(testing::Fetch((*app)->port(), "GET", "/v2/health/ready").status, 200);
  (*app)->Shutdown();
  EXPECT_FALSE((*app)->ready());
  EXPECT_EQ((*app)->NotReadyReason(), "shutting down");
  EXPECT_FALSE(testing::Connection((*app)->port()).connected());  // listener closed
}

TEST(ApplicationTest, MissingModelRepositoryIsAStartupError) {
  testing::TempDir dir;
  Config config;
  config.data_dir = dir.path();
  config.serving.model_repository = dir.File("no-such-dir");
  auto app = Application::Create(config, SystemClock::Get());
  ASSERT_FALSE(app.ok());
  EXPECT_NE(app.status().message().find("no-such-dir"), std::string::npos);
}

}  // namespace
}  // namespace closedloop
