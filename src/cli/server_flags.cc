#include "cli/server_flags.h"

#include "core/logging.h"

namespace closedloop {

void AddServerFlags(CLI::App& cmd, ServerFlags& f) {
  cmd.add_option("--config", f.config_file, "TOML config file")->check(CLI::ExistingFile);
  cmd.add_option("--listen", f.listen, "HOST:PORT to listen on (port 0: any free port)")
      ->default_str("127.0.0.1:4000");
  cmd.add_option("--data-dir", f.data_dir, "Where models and databases live")
      ->default_str("./closedloop-data");
  cmd.add_option("--model-repository", f.model_repository,
                 "Model repository (default: <data-dir>/models)");
  cmd.add_option("--workers", f.workers, "IO threads (default: number of cores)")
      ->check(CLI::Range(1, 256));
  cmd.add_option("--poll-repository", f.poll_seconds,
                 "Reload changed models every SECONDS (default 2; 0: never)")
      ->check(CLI::Range(0.0, 86400.0));
  cmd.add_option("--log-level", f.log_level, "trace|debug|info|warn|error|off");
  cmd.add_option("--log-format", f.log_format, "logfmt|json");
  cmd.add_option("--tls-cert", f.tls_cert, "PEM certificate chain: serve HTTPS and WSS")
      ->check(CLI::ExistingFile);
  cmd.add_option("--tls-key", f.tls_key, "PEM private key of --tls-cert")->check(CLI::ExistingFile);
}

StatusOr<Config> ResolveServerConfig(const ServerFlags& f) {
  Config config;
  if (!f.config_file.empty()) {
    auto loaded = LoadConfigFile(f.config_file);
    if (!loaded.ok()) return InvalidArgument("config: " + loaded.status().message());
    config = std::move(loaded).value();
  }
  if (f.data_dir) config.data_dir = *f.data_dir;
  if (f.model_repository) config.serving.model_repository = *f.model_repository;
  if (f.workers) config.server.workers = *f.workers;
  if (f.poll_seconds) config.serving.poll_repository_ms = static_cast<int>(*f.poll_seconds * 1000);
  if (f.log_level) config.logging.level = *f.log_level;
  if (f.tls_cert) config.server.tls_cert_file = *f.tls_cert;
  if (f.tls_key) config.server.tls_key_file = *f.tls_key;
  if (f.log_format) {
    if (*f.log_format != "json" && *f.log_format != "logfmt") {
      return InvalidArgument("--log-format must be json or logfmt");
    }
    config.logging.format = *f.log_format == "json" ? LogFormat::kJson : LogFormat::kLogfmt;
  }
  if (f.listen) {
    Status s = ParseListenAddress(*f.listen, config.server);
    if (!s.ok()) return InvalidArgument("--listen: " + s.message());
  }
  if (!InitLogging(config.logging)) {
    return InvalidArgument("unknown log level '" + config.logging.level + "'");
  }
  return config;
}

sigset_t BlockShutdownSignals() {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  return signals;
}

int WaitForShutdownSignal(const sigset_t& signals) {
  int sig = 0;
  sigwait(&signals, &sig);
  LogInfo("signal received").Kv("signal", sig == SIGTERM ? "SIGTERM" : "SIGINT");
  return sig;
}

}  // namespace closedloop
