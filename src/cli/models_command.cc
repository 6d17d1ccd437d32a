#include <ctime>
#include <iostream>

#include "cli/commands.h"
#include "tracking/model_registry.h"

namespace closedloop {

namespace {

struct RegistryFlags {
  std::string data_dir = "./closedloop-data";
  std::string model_repository;

  void Add(CLI::App* cmd) {
    cmd->add_option("--data-dir", data_dir, "Where tracking.db and the models live")
        ->capture_default_str();
    cmd->add_option("--model-repository", model_repository,
                    "Model repository (default: <data-dir>/models)");
  }
  StatusOr<std::unique_ptr<ModelRegistry>> Open() const {
    return ModelRegistry::OpenInDataDir(
        data_dir, model_repository.empty() ? data_dir + "/models" : model_repository,
        SystemClock::Get());
  }
};

void PrintVersion(const ModelVersionInfo& v) {
  std::cout << "version " << v.version << "\n  stage       " << v.current_stage
            << "\n  aliases    ";
  for (const auto& a : v.aliases) std::cout << " " << a;
  std::cout << "\n  created     " << FormatUtc(v.creation_time) << "\n  flavor      " << v.flavor
            << "\n  path        " << v.storage_path << "\n  source      " << v.source
            << "\n  run_id      " << v.run_id << "\n  sha256      " << v.model_sha256
            << "\n  size        " << v.model_size << " bytes\n  metrics     "
            << v.metrics_json.size() << " bytes of metrics.json";
  if (!v.description.empty()) std::cout << "\n  description " << v.description;
  std::cout << "\n";
}

// Runs `body` with the opened registry; errors go to stderr with exit code 1.
template <typename F>
std::function<void()> WithRegistry(std::shared_ptr<RegistryFlags> flags, int& exit_code,
                                   const char* cmd, F body) {
  return [flags, &exit_code, cmd, body] {
    auto registry = flags->Open();
    Status s = registry.ok() ? body(**registry) : registry.status();
    if (!s.ok()) {
      std::cerr << "closedloop models " << cmd << ": " << s.message() << "\n";
      exit_code = 1;
    }
  };
}

}  // namespace

void AddModelsCommand(CLI::App& app, int& exit_code) {
  CLI::App* models = app.add_subcommand("models", "The model registry: list, show, alias, stage");
  models->require_subcommand(1);

  auto lf = std::make_shared<RegistryFlags>();
  CLI::App* list = models->add_subcommand("list", "Registered models, their versions and aliases");
  lf->Add(list);
  list->callback(WithRegistry(lf, exit_code, "list", [](ModelRegistry& r) -> Status {
    ASSIGN_OR_RETURN(auto all, r.SearchRegisteredModels("", 0));
    if (all.empty()) std::cout << "no registered models\n";
    for (const auto& m : all) {
      ASSIGN_OR_RETURN(auto versions, r.SearchModelVersions("name = '" + m.name + "'", 0));
      std::cout << m.name << "  versions:";
      for (const auto& v : versions) std::cout << " " << v.version << "(" << v.current_stage << ")";
      std::cout << "  aliases:";
      for (const auto& [alias, version] : m.aliases) std::cout << " " << alias << "=" << version;
      std::cout << "\n";
    }
    return OkStatus();
  }));

  auto sf = std::make_shared<RegistryFlags>();
  auto name = std::make_shared<std::string>();
  auto version = std::make_shared<int64_t>(0);
  auto card = std::make_shared<bool>(false);
  CLI::App* show = models->add_subcommand("show", "A registered model, or one version of it");
  show->add_option("NAME", *name)->required();
  show->add_option("--version", *version, "One version (default: all of them)");
  show->add_flag("--card", *card, "Print the version's model card (markdown)");
  sf->Add(show);
  show->callback(
      WithRegistry(sf, exit_code, "show", [name, version, card](ModelRegistry& r) -> Status {
        ASSIGN_OR_RETURN(RegisteredModel m, r.GetRegisteredModel(*name));
        if (*card) {
          int64_t v = *version;
          if (v == 0) {
            ASSIGN_OR_RETURN(auto vs, r.SearchModelVersions("name = '" + *name + "'", 1));
            if (vs.empty()) return NotFound("model '" + *name + "' has no versions");
            v = vs[0].version;
          }
          ASSIGN_OR_RETURN(auto mv, r.GetModelVersion(*name, v));
          std::cout << mv.model_card;
          return OkStatus();
        }
        std::cout << "name        " << m.name << "\ncreated     " << FormatUtc(m.creation_time)
                  << "\nupdated     " << FormatUtc(m.last_updated_time) << "\n";
        if (!m.description.empty()) std::cout << "description " << m.description << "\n";
        if (*version != 0) {
          ASSIGN_OR_RETURN(auto mv, r.GetModelVersion(*name, *version));
          PrintVersion(mv);
          return OkStatus();
        }
        ASSIGN_OR_RETURN(auto vs, r.SearchModelVersions("name = '" + *name + "'", 0));
        for (const auto& v : vs) PrintVersion(v);
        return OkStatus();
      }));

  auto af = std::make_shared<RegistryFlags>();
  auto a_name = std::make_shared<std::string>();
  auto a_alias = std::make_shared<std::string>();
  auto a_version = std::make_shared<int64_t>(0);
  auto a_delete = std::make_shared<bool>(false);
  CLI::App* alias = models->add_subcommand(
      "alias",
      "Point an alias at a version (or --delete it); a server that polls its "
      "repository, or serves this data dir, swaps to it without failed requests");
  alias->add_option("NAME", *a_name)->required();
  alias->add_option("ALIAS", *a_alias)->required();
  alias->add_option("VERSION", *a_version);
  alias->add_flag("--delete", *a_delete, "Remove the alias");
  af->Add(alias);
  alias->callback(WithRegistry(
      af, exit_code, "alias", [a_name, a_alias, a_version, a_delete](ModelRegistry& r) -> Status {
        if (*a_delete) {
          RETURN_IF_ERROR(r.DeleteAlias(*a_name, *a_alias));
          std::cout << "deleted " << *a_name << "@" << *a_alias << "\n";
          return OkStatus();
        }
        if (*a_version <= 0) return InvalidArgument("give the VERSION the alias points at");
        RETURN_IF_ERROR(r.SetAlias(*a_name, *a_alias, *a_version));
        std::cout << *a_name << "@" << *a_alias << " -> version " << *a_version << "\n";
        return OkStatus();
      }));

  auto tf = std::make_shared<RegistryFlags>();
  auto t_name = std::make_shared<std::string>();
  auto t_version = std::make_shared<int64_t>(0);
  auto t_stage = std::make_shared<std::string>();
  auto t_archive = std::make_shared<bool>(false);
  CLI::App* stage = models->add_subcommand(
      "stage", "Move a version to a stage: None, Staging, Production, Archived");
  stage->add_option("NAME", *t_name)->required();
  stage->add_option("VERSION", *t_version)->required();
  stage->add_option("STAGE", *t_stage)->required();
  stage->add_flag("--archive-existing", *t_archive, "Archive the other versions in that stage");
  tf->Add(stage);
  stage->callback(WithRegistry(
      tf, exit_code, "stage", [t_name, t_version, t_stage, t_archive](ModelRegistry& r) -> Status {
        ASSIGN_OR_RETURN(auto v, r.TransitionStage(*t_name, *t_version, *t_stage, *t_archive));
        std::cout << v.name << " version " << v.version << " -> " << v.current_stage << "\n";
        return OkStatus();
      }));
}

}  // namespace closedloop
