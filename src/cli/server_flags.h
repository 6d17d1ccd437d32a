// The flags that every long-running server subcommand (`up`, `serve`) shares,
// and turning them into a Config, plus the shutdown-signal handling around them.
#pragma once

#include <optional>
#include <string>

#include <signal.h>
#include <CLI/CLI.hpp>

#include "core/config.h"
#include "core/status.h"

namespace closedloop {

struct ServerFlags {
  std::string config_file;
  std::optional<std::string> listen, data_dir, log_level, log_format, model_repository;
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

}  // namespace closedloop
