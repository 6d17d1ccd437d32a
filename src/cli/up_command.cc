#include <csignal>
#include <filesystem>
#include <iostream>
#include <optional>

#include "app/application.h"
#include "auth/admin_key.h"
#include "cli/commands.h"
#include "cli/server_flags.h"
#include "core/config.h"
#include "core/logging.h"
#include "learn/demo_bootstrap.h"

namespace closedloop {
namespace {

struct UpFlags {
  ServerFlags server;
  std::string examples_dir;
  bool no_demo = false;
  bool insecure = false;
  bool public_metrics = false;
};

std::string DefaultExamplesDir() {
  if (std::filesystem::exists("examples/support/data/train.csv")) return "examples/support";
  return std::string(CLOSEDLOOP_SOURCE_DIR) + "/examples/support";
}

int RunUp(const UpFlags& f) {
  const sigset_t signals = BlockShutdownSignals();
  auto resolved = ResolveServerConfig(f.server);
  if (!resolved.ok()) {
    std::cerr << "closedloop: " << resolved.status().message() << "\n";
    return 2;
  }
  Config config = std::move(resolved).value();
  if (!f.no_demo) {
    std::filesystem::create_directories(config.data_dir);
    auto runs = TrackingStore::OpenInDataDir(config.data_dir, SystemClock::Get());
    auto registry = runs.ok()
                        ? ModelRegistry::OpenInDataDir(
                              config.data_dir, config.ModelRepositoryPath(), SystemClock::Get())
                        : StatusOr<std::unique_ptr<ModelRegistry>>(runs.status());
    auto demo = registry.ok() ? EnsureDemoModels(
                                    **registry, **runs,
                                    f.examples_dir.empty() ? DefaultExamplesDir() : f.examples_dir,
                                    config.data_dir)
                              : StatusOr<std::vector<DemoModel>>(registry.status());
    if (!demo.ok()) {
      LogError("demo set-up failed").Kv("error", demo.status().message());
      return 1;
    }
  }
  if (!f.no_demo && config.retrain.model.empty()) {
    // The demo learns from its feedback: 50 new human labels retrain the intent model.
    config.retrain.model = "support-intent";
    std::string must_pass =
        (f.examples_dir.empty() ? DefaultExamplesDir() : f.examples_dir) + "/must_pass.csv";
    if (config.retrain.must_pass.empty() && std::filesystem::exists(must_pass)) {
      config.retrain.must_pass = must_pass;
    }
  }
  // The demo's labeling queue: the intent model's traffic, selected every interval_ms.
  if (!f.no_demo && config.labeling.model.empty()) config.labeling.model = "support-intent";
  if (config.support.rules_file.empty()) {  // the demo's support app, unless configured
    std::string rules =
        (f.examples_dir.empty() ? DefaultExamplesDir() : f.examples_dir) + "/support.toml";
    if (std::filesystem::exists(rules)) config.support.rules_file = rules;
  }
  // Secure by default: credentials on every route but health, unless the config
  // file decides or --insecure is given.
  if (!config.auth.enabled_set && !f.insecure) config.auth.enabled = true;
  if (f.public_metrics) config.auth.public_metrics = true;
  std::string key_notice;
  if (config.auth.enabled) {
    std::filesystem::create_directories(config.data_dir);
    auto admin = EnsureAdminKey(config.data_dir, SystemClock::Get());
    if (!admin.ok()) {
      LogError("start-up failed").Kv("error", admin.status().message());
      return 1;
    }
    key_notice = admin->created ? "admin API key (shown only now; saved to " + admin->path +
                                      ", readable only by you):\n  " + admin->key + "\n"
                                : "admin API key: in " + admin->path + "\n";
  }
  return ServeUntilSignal<Application>(
      Application::Create(config, SystemClock::Get()), config, signals,
      [&key_notice](const Application& app) { return key_notice + app.StatusBlock(); });
}

}  // namespace

void AddUpCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<UpFlags>();
  CLI::App* up = app.add_subcommand(
      "up", "Run every role in one process; on an empty data dir, build and serve the demo");
  AddServerFlags(*up, flags->server);
  up->add_option("--examples-dir", flags->examples_dir, "Demo data (default: examples/support)");
  up->add_flag("--no-demo", flags->no_demo, "Do not train the demo model on an empty repository");
  up->add_flag("--insecure", flags->insecure,
               "Serve without credentials (unless the config file enables [auth])");
  up->add_flag("--public-metrics", flags->public_metrics, "/metrics without credentials");
  up->callback([flags, &exit_code] { exit_code = RunUp(*flags); });
}

}  // namespace closedloop
