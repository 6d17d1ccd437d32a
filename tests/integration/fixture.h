// Starts the real closedloop binary (`up` on port 0) on a fresh data dir holding
// the test model, with short timeouts so timeout behaviour is quick to observe.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "support/http_client.h"
#include "support/json.h"
#include "support/server_process.h"
#include "support/temp_dir.h"

namespace closedloop::testing {

inline constexpr const char* kTestConfig = R"(
[server]
body_limit_bytes = 65536
header_timeout_ms = 400
body_timeout_ms = 1000
drain_timeout_ms = 5000
[serving]
max_text_bytes = 2000
image_body_limit_bytes = 0
)";

class ServerFixture : public ::testing::Test {
 protected:
  // Writes `config` to the data dir and starts the server; fails the test if not ready.
  void Start(const std::string& config = kTestConfig, bool install_model = true,
             std::vector<std::string> extra_args = {}) {
    if (install_model) InstallTestModel(dir_.path());
    WriteFile(dir_.File("closedloop.toml"), config);
    auto args = UpArgs(dir_.path(), dir_.File("closedloop.toml"));
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    server_ = std::make_unique<ServerProcess>(args, dir_.File("stderr.log"));
    ASSERT_TRUE(server_->WaitReady()) << server_->Stderr();
    port_ = server_->port();
  }

  HttpResult Predict(const std::string& body) { return Fetch(port_, "POST", "/v1/predict", body); }

  TempDir dir_;
  std::unique_ptr<ServerProcess> server_;
  int port_ = 0;
};

}  // namespace closedloop::testing
