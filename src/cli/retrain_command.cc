#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/logging.h"
#include "learn/retrainer.h"
#include "rollout/rollout_api.h"
#include "rollout/rollout_store.h"
#include "store/migrations.h"
#include "store/sqlite_db.h"

namespace closedloop {

namespace {

struct RetrainFlags {
  std::string data_dir = "./closedloop-data";
  std::string config_file;
  std::string model;
  std::string must_pass, holdout;
  std::optional<double> max_drop;
  int threads = 0;
  std::string mode;
};

int RunRetrain(const RetrainFlags& f) {
  RetrainConfig rc;
  if (!f.config_file.empty()) {
    auto c = LoadConfigFile(f.config_file);
    if (!c.ok()) {
      std::cerr << "closedloop retrain: config: " << c.status().message() << "\n";
      return 2;
    }
    rc = c->retrain;
  }
  if (!f.must_pass.empty()) rc.must_pass = f.must_pass;
  if (!f.holdout.empty()) rc.holdout = f.holdout;
  if (f.max_drop) rc.max_holdout_drop = *f.max_drop;
  if (!f.mode.empty()) rc.mode = f.mode;
  const std::string log_path = f.data_dir + "/predictions.db";
  if (!std::filesystem::exists(f.data_dir + "/tracking.db")) {
    std::cerr << "closedloop retrain: no registry in '" << f.data_dir << "'\n";
    return 2;
  }
  auto runs = TrackingStore::OpenInDataDir(f.data_dir, SystemClock::Get());
  auto registry = runs.ok() ? ModelRegistry::OpenInDataDir(f.data_dir, f.data_dir + "/models",
                                                           SystemClock::Get())
                            : StatusOr<std::unique_ptr<ModelRegistry>>(runs.status());
  if (!registry.ok()) {
    std::cerr << "closedloop retrain: " << registry.status().message() << "\n";
    return 2;
  }
  RetrainEnv env{**runs,
                 **registry,
                 [&](const std::function<Status(SqliteDb&)>& read) -> Status {
                   if (!std::filesystem::exists(log_path)) {
                     // No predictions yet: the log's (empty) schema, as the server makes it.
                     auto db = SqliteDb::Open(log_path, SqliteDb::Mode::kReadWrite);
                     if (!db.ok()) return db.status();
                     RETURN_IF_ERROR(ApplyMigrations(**db, PredictionLogMigrations()));
                   }
                   auto db = SqliteDb::Open(log_path, SqliteDb::Mode::kReadOnly);
                   if (!db.ok()) return db.status();
                   return read(**db);
                 },
                 f.data_dir,
                 SystemClock::Get(),
                 f.threads};
  auto outcome = RetrainModel(f.model, "manual (closedloop retrain)", rc, env);
  std::error_code ec;
  std::filesystem::remove(f.data_dir + "/staging", ec);  // only when empty
  if (!outcome.ok()) {
    std::cerr << "closedloop retrain: " << outcome.status().message() << "\n";
    return 2;
  }
  std::cout << RetrainOutcomeJson(*outcome) << "\n";
  for (const auto& g : outcome->gates) {
    std::cerr << (g.passed ? "passed  " : "FAILED  ") << g.name << ": " << g.detail << "\n";
  }
  if (outcome->passed) {
    std::cerr << "registered " << f.model << " version " << *outcome->version
              << " as @challenger (run " << outcome->run_id << ")\n";
    return 0;
  }
  std::cerr << "the candidate failed its gates: nothing registered (run " << outcome->run_id
            << ")\n";
  return 1;
}

}  // namespace

void AddRetrainCommand(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<RetrainFlags>();
  CLI::App* cmd = app.add_subcommand(
      "retrain",
      "Retrain a model from its original data and its feedback; a candidate that passes the "
      "quality gates becomes @challenger (exit 0), one that fails them is not registered (exit 1)");
  cmd->add_option("model", f->model, "Registered model with a @champion")->required();
  cmd->add_option("--data-dir", f->data_dir, "Data dir of the server")->capture_default_str();
  cmd->add_option("--config", f->config_file, "Server config whose [retrain] section applies")
      ->check(CLI::ExistingFile);
  cmd->add_option("--must-pass", f->must_pass, "CSV text,label the candidate must all get right")
      ->check(CLI::ExistingFile);
  cmd->add_option("--holdout", f->holdout, "Fixed holdout (default: the champion's test file)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--max-holdout-drop", f->max_drop,
                  "Accuracy the candidate may lose on the holdout (default 0.01)")
      ->check(CLI::Range(0.0, 1.0));
  cmd->add_option("--threads", f->threads, "Training threads (0: cores)");
  cmd->add_option("--mode", f->mode,
                  "scratch (original data + feedback) or fine_tune (an mlp champion continued "
                  "on the feedback with rehearsal and EWC); default: the config's")
      ->check(CLI::IsMember({"scratch", "fine_tune"}));
  cmd->callback([f, &exit_code] {
    InitLogging(LogOptions{"warn", LogFormat::kLogfmt});
    exit_code = RunRetrain(*f);
  });
}

void AddRolloutsCommand(CLI::App& app, int& exit_code) {
  struct Flags {
    std::string data_dir = "./closedloop-data";
    std::string model, id;
    bool json = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* cmd = app.add_subcommand(
      "rollouts", "Rollouts and every decision taken in them, with the evidence (rollouts.db)");
  cmd->add_option("id", f->id, "Show one rollout with its decisions");
  cmd->add_option("--data-dir", f->data_dir, "Data dir of the server")->capture_default_str();
  cmd->add_option("--model", f->model, "Only this model's rollouts");
  cmd->add_flag("--json", f->json, "JSON instead of text");
  cmd->callback([f, &exit_code] {
    InitLogging(LogOptions{"warn", LogFormat::kLogfmt});
    std::string path = f->data_dir + "/rollouts.db";
    if (!std::filesystem::exists(path)) {
      std::cerr << "closedloop rollouts: no rollouts in '" << f->data_dir << "'\n";
      exit_code = 1;
      return;
    }
    auto store = RolloutStore::Open(path);
    if (!store.ok()) {
      std::cerr << "closedloop rollouts: " << store.status().message() << "\n";
      exit_code = 1;
      return;
    }
    if (!f->id.empty()) {
      auto r = (*store)->Get(f->id);
      if (!r.ok()) {
        std::cerr << "closedloop rollouts: " << r.status().message() << "\n";
        exit_code = 1;
        return;
      }
      if (f->json) {
        std::cout << RolloutJson(*r, true) << "\n";
        return;
      }
      std::cout << "rollout " << r->id << ": " << r->model << " v" << r->challenger_version
                << " vs champion v" << r->champion_version << " — " << r->state << " ("
                << r->traffic_percent << "% of traffic)\n";
      for (const auto& d : r->decisions) {
        std::cout << "  " << FormatUtc(d.ts_ms) << "  " << d.stage << " " << d.traffic_percent
                  << "%  " << d.decision << ": " << d.reasons << "\n";
      }
      std::cout << "  latest evidence: " << r->evidence_json << "\n";
      return;
    }
    auto rows = (*store)->List(f->model, false, 100);
    if (!rows.ok()) {
      std::cerr << "closedloop rollouts: " << rows.status().message() << "\n";
      exit_code = 1;
      return;
    }
    if (f->json) {
      std::cout << "[";
      for (size_t i = 0; i < rows->size(); ++i) {
        std::cout << (i ? "," : "") << RolloutJson((*rows)[i], false);
      }
      std::cout << "]\n";
      return;
    }
    std::cout << "ID                          MODEL             CHAMPION CHALLENGER STATE        "
                 "TRAFFIC  UPDATED\n";
    for (const auto& r : *rows) {
      char line[300];
      std::snprintf(line, sizeof line, "%-27s %-17s %8lld %10lld %-12s %6.1f%%  %s\n", r.id.c_str(),
                    r.model.c_str(), static_cast<long long>(r.champion_version),
                    static_cast<long long>(r.challenger_version), r.state.c_str(),
                    r.traffic_percent, FormatUtc(r.updated_ms).c_str());
      std::cout << line;
    }
  });
}

}  // namespace closedloop
