// The flags that every long-running server subcommand (`up`, `serve`) shares,
// and turning them into a Config, plus the shutdown-signal handling around them.
#pragma once

#include <functional>
#include <iostream>
#include <memory>
#include <optional>
#include <string>

#include <signal.h>
#include <CLI/CLI.hpp>

#include "core/config.h"
#include "core/logging.h"
#include "core/status.h"

namespace closedloop {

struct ServerFlags {
  std::string config_file;
  std::optional<std::string> listen, data_dir, log_level, log_format, model_repository;
  std::optional<std::string> tls_cert, tls_key;
  std::optional<int> workers;
  std::optional<double> poll_seconds;
};

void AddServerFlags(CLI::App& command, ServerFlags& flags);
// The config file with the flags applied on top, logging initialised. The error
// names the flag or the config problem.
StatusOr<Config> ResolveServerConfig(const ServerFlags& flags);

// Blocks SIGTERM and SIGINT in this thread and every thread it starts later; call
// first. WaitForShutdownSignal() then returns the one that came.
sigset_t BlockShutdownSignals();
int WaitForShutdownSignal(const sigset_t& signals);

// The life of a server process once its application is created: Start(), print
// `banner(app)` and the ready line, wait for SIGTERM/SIGINT, Shutdown(). Returns
// the exit code: 2 when creation or start failed on bad input (config, flags,
// files), 1 on other start-up failures, 0 after a clean shutdown.
template <typename App>
int ServeUntilSignal(StatusOr<std::unique_ptr<App>> app, const Config& config,
                     const sigset_t& signals,
                     const std::function<std::string(const App&)>& banner = nullptr) {
  if (!app.ok()) {
    LogError("start-up failed").Kv("error", app.status().message());
    return app.status().code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  Status started = (*app)->Start();
  if (!started.ok()) {
    LogError("start-up failed").Kv("error", started.message());
    return started.code() == StatusCode::kInvalidArgument ? 2 : 1;
  }
  if (banner) std::cout << banner(**app);
  std::cout << "closedloop ready: " << (config.server.tls_cert_file.empty() ? "http" : "https")
            << "://" << config.server.host << ":" << (*app)->port() << std::endl;
  WaitForShutdownSignal(signals);
  (*app)->Shutdown();
  return 0;
}

}  // namespace closedloop
