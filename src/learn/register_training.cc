#include "learn/register_training.h"

#include <filesystem>

#include "serving/model_config.h"

namespace closedloop {

StatusOr<RegisteredTraining> LogAndRegister(TrackingStore& runs, ModelRegistry& registry,
                                            const std::string& model,
                                            const std::string& staging_dir,
                                            TrainingRunRecord record,
                                            const std::string& description,
                                            const std::string& alias, const Clock& clock) {
  RETURN_IF_ERROR(ValidateModelName(model));
  if (!alias.empty()) RETURN_IF_ERROR(ValidateAliasName(alias));
  RegisteredTraining out;
  record.run_name = model + " training";
  ASSIGN_OR_RETURN(out.run_id, LogTrainingRun(runs, model, std::move(record), clock));
  NewModelVersion nv;
  nv.name = model;
  nv.source = staging_dir;
  nv.recorded_source = "runs:/" + out.run_id + "/model";
  nv.run_id = out.run_id;
  nv.description = description;
  nv.user_id = "closedloop";
  nv.move_source = true;
  nv.create_model_if_missing = true;
  ASSIGN_OR_RETURN(out.version, registry.CreateModelVersion(nv));
  std::string model_file;
  for (const char* f : kModelFileNames) {
    std::error_code ec;
    auto p = std::filesystem::path(out.version.storage_path) / f;
    if (std::filesystem::exists(p, ec)) model_file = p.string();
  }
  RETURN_IF_ERROR(runs.LogBatch(out.run_id, {}, {},
                                {{"model.path", model_file},
                                 {"registered_model", model},
                                 {"registered_version", std::to_string(out.version.version)}}));
  if (!alias.empty()) {
    RETURN_IF_ERROR(registry.SetAlias(model, alias, out.version.version));
    out.version.aliases.push_back(alias);
  }
  return out;
}

}  // namespace closedloop
