#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include "app/application.h"
#include "app/gateway_application.h"
#include "cli/commands.h"
#include "cli/server_flags.h"
#include "core/clock.h"
#include "core/logging.h"

namespace closedloop {
namespace {

struct ServeFlags {
  ServerFlags server;
  std::string role = "all";
  std::vector<std::string> upstreams;
};

int RunServe(const ServeFlags& f) {
  const sigset_t signals = BlockShutdownSignals();
  auto resolved = ResolveServerConfig(f.server);
  if (!resolved.ok()) {
    std::cerr << "closedloop: " << resolved.status().message() << "\n";
    return 2;
  }
  Config config = std::move(resolved).value();
  if (f.role == "gateway") {
    if (!f.upstreams.empty()) config.gateway.upstreams = f.upstreams;
    return ServeUntilSignal(GatewayApplication::Create(config, SystemClock::Get()), config,
                            signals);
  }
  if (!f.upstreams.empty()) {
    std::cerr << "closedloop: --upstream is only for --role gateway\n";
    return 2;
  }
  // inference and all: the model server with everything the replica logs and
  // learns from (control-plane routes included until they run apart).
  return ServeUntilSignal(Application::Create(config, SystemClock::Get()), config, signals);
}

}  // namespace

void AddServeCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<ServeFlags>();
  CLI::App* serve = app.add_subcommand(
      "serve", "Run one role: an inference replica, or a gateway in front of replicas");
  AddServerFlags(*serve, flags->server);
  serve->add_option("--role", flags->role, "inference|gateway|all")
      ->check(CLI::IsMember({"inference", "gateway", "all"}))
      ->default_str("all");
  serve->add_option("--upstream", flags->upstreams,
                    "http://HOST:PORT of an inference replica (gateway role; repeat for more)");
  serve->callback([flags, &exit_code] { exit_code = RunServe(*flags); });
}

}  // namespace closedloop
