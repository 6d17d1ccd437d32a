#include <csignal>
#include <filesystem>
#include <iostream>
#include <optional>

#include "app/application.h"
#include "cli/commands.h"
#include "core/config.h"
#include "core/logging.h"
#include "learn/demo_bootstrap.h"

namespace closedloop {
namespace {

struct UpFlags {
  std::string config_file;
  std::optional<std::string> listen, data_dir, log_level, log_format, model_repository;
  std::optional<int> workers;
  std::optional<double> poll_seconds;
  std::string examples_dir;
  bool no_demo = false;
};

std::string DefaultExamplesDir() {
  if (std::filesystem::exists("examples/support/data/train.csv")) return "examples/support";
  return std::string(CLOSEDLOOP_SOURCE_DIR) + "/examples/support";
}

int RunUp(const UpFlags& f) {
  // Block the shutdown signals in every thread; the main thread waits for them below.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  Config config;
  if (!f.config_file.empty()) {
    auto loaded = LoadConfigFile(f.config_file);
    if (!loaded.ok()) {
      std::cerr << "closedloop: config: " << loaded.status().message() << "\n";
      return 2;
    }
    config = std::move(loaded).value();
  }
  if (f.data_dir) config.data_dir = *f.data_dir;
  if (f.model_repository) config.serving.model_repository = *f.model_repository;
  if (f.workers) config.server.workers = *f.workers;
  if (f.poll_seconds) config.serving.poll_repository_ms = static_cast<int>(*f.poll_seconds * 1000);
  if (f.log_level) config.logging.level = *f.log_level;
  if (f.log_format) {
    if (*f.log_format != "json" && *f.log_format != "logfmt") {
      std::cerr << "closedloop: --log-format must be json or logfmt\n";
      return 2;
    }
    config.logging.format = *f.log_format == "json" ? LogFormat::kJson : LogFormat::kLogfmt;
  }
  if (f.listen) {
    Status s = ParseListenAddress(*f.listen, config.server);
    if (!s.ok()) {
      std::cerr << "closedloop: --listen: " << s.message() << "\n";
      return 2;
    }
  }
  if (!InitLogging(config.logging)) {
    std::cerr << "closedloop: unknown log level '" << config.logging.level << "'\n";
    return 2;
  }
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
  if (config.support.rules_file.empty()) {  // the demo's support app, unless configured
    std::string rules =
        (f.examples_dir.empty() ? DefaultExamplesDir() : f.examples_dir) + "/support.toml";
    if (std::filesystem::exists(rules)) config.support.rules_file = rules;
  }
  auto app = Application::Create(config, SystemClock::Get());
  if (!app.ok()) {
    LogError("start-up failed").Kv("error", app.status().message());
    return 1;
  }
  Status started = (*app)->Start();
  if (!started.ok()) {
    LogError("start-up failed").Kv("error", started.message());
    return 1;
  }
  std::cout << (*app)->StatusBlock();
  std::cout << "closedloop ready: http://" << config.server.host << ":" << (*app)->port()
            << std::endl;
  int sig = 0;
  sigwait(&signals, &sig);
  LogInfo("signal received").Kv("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  (*app)->Shutdown();
  return 0;
}

}  // namespace

void AddUpCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<UpFlags>();
  CLI::App* up = app.add_subcommand(
      "up", "Run every role in one process; on an empty data dir, build and serve the demo");
  up->add_option("--config", flags->config_file, "TOML config file")->check(CLI::ExistingFile);
  up->add_option("--listen", flags->listen, "HOST:PORT to listen on (port 0: any free port)")
      ->default_str("127.0.0.1:4000");
  up->add_option("--data-dir", flags->data_dir, "Where models and databases live")
      ->default_str("./closedloop-data");
  up->add_option("--model-repository", flags->model_repository,
                 "Model repository (default: <data-dir>/models)");
  up->add_option("--workers", flags->workers, "IO threads (default: number of cores)")
      ->check(CLI::Range(1, 256));
  up->add_option("--poll-repository", flags->poll_seconds,
                 "Reload changed models every SECONDS (default 2; 0: never)")
      ->check(CLI::Range(0.0, 86400.0));
  up->add_option("--log-level", flags->log_level, "trace|debug|info|warn|error|off");
  up->add_option("--log-format", flags->log_format, "logfmt|json");
  up->add_option("--examples-dir", flags->examples_dir, "Demo data (default: examples/support)");
  up->add_flag("--no-demo", flags->no_demo, "Do not train the demo model on an empty repository");
  up->callback([flags, &exit_code] { exit_code = RunUp(*flags); });
}

}  // namespace closedloop
