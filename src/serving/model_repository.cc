#include "serving/model_repository.h"

#include <charconv>
#include <filesystem>

#include <toml++/toml.h>

#include "core/logging.h"
#include "serving/fasttext_backend.h"

namespace closedloop {
namespace fs = std::filesystem;
namespace {

std::optional<int64_t> ParseVersion(std::string_view s) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v <= 0) return std::nullopt;
  return v;
}

StatusOr<std::map<std::string, int64_t, std::less<>>> LoadAliases(const fs::path& file) {
  std::map<std::string, int64_t, std::less<>> out;
  std::error_code ec;
  if (!fs::exists(file, ec)) return out;
  try {
    toml::table t = toml::parse_file(file.string());
    for (const auto& [k, v] : t) {
      auto n = v.value<int64_t>();
      if (!n || *n <= 0) {
        return InvalidArgument(file.string() + ": alias '" + std::string(k.str()) +
                               "' must be a positive version number");
      }
      out.emplace(std::string(k.str()), *n);
    }
  } catch (const toml::parse_error& e) {
    return InvalidArgument(file.string() + ": " + std::string(e.description()));
  }
  return out;
}

}  // namespace

StatusOr<std::unique_ptr<ModelVersion>> LoadModelVersion(const std::string& dir, std::string name,
                                                         int64_t version) {
  ASSIGN_OR_RETURN(ModelConfig config, LoadModelConfig(dir + "/config.toml"));
  auto mv = std::make_unique<ModelVersion>();
  mv->name = std::move(name);
  mv->version = version;
  mv->version_label = std::to_string(version);
  if (config.flavor == "fasttext") {
    std::error_code ec;
    std::string file = dir + "/model.bin";
    if (!fs::exists(file, ec)) file = dir + "/model.ftz";
    if (!fs::exists(file, ec)) return NotFound("no model.bin or model.ftz in '" + dir + "'");
    ASSIGN_OR_RETURN(mv->backend, FastTextBackend::Load(file));
    mv->path = file;
  } else {
    return InvalidArgument("unsupported flavor '" + config.flavor + "' in " + dir +
                           "/config.toml (supported: fasttext)");
  }
  if (!config.labels.empty() && config.labels != mv->backend->labels()) {
    return InvalidArgument("labels in " + dir +
                           "/config.toml do not match the labels inside the model file");
  }
  mv->config = std::move(config);
  return mv;
}

ModelRepository::ModelRepository(std::string root) : root_(std::move(root)) {
  snapshot_.store(std::make_shared<const Snapshot>());
}

StatusOr<std::vector<ModelState>> ModelRepository::LoadAll() {
  std::error_code ec;
  if (!fs::is_directory(root_, ec)) {
    return NotFound("model repository '" + root_ + "' is not a directory");
  }
  auto snap = std::make_shared<Snapshot>();
  std::vector<fs::path> model_dirs;
  for (const auto& e : fs::directory_iterator(root_, ec)) {
    // Dot-directories are staging areas (a model being trained or copied in).
    if (e.is_directory() && e.path().filename().string()[0] != '.') model_dirs.push_back(e.path());
  }
  std::sort(model_dirs.begin(), model_dirs.end());
  for (const auto& model_dir : model_dirs) {
    std::string name = model_dir.filename().string();
    Model model;
    auto aliases = LoadAliases(model_dir / "aliases.toml");
    if (aliases.ok()) {
      model.aliases = std::move(aliases).value();
    } else {
      LogError("model aliases ignored").Kv("model", name).Kv("error", aliases.status().message());
    }
    for (const auto& v : fs::directory_iterator(model_dir, ec)) {
      if (!v.is_directory()) continue;
      std::string vname = v.path().filename().string();
      ModelState state{name, 0, false, ""};
      auto number = ParseVersion(vname);
      if (!number) {
        state.error = "version directory '" + vname + "' is not a positive integer";
      } else {
        state.version = *number;
        auto loaded = LoadModelVersion(v.path().string(), name, *number);
        if (loaded.ok()) {
          state.ready = true;
          model.versions.emplace(*number,
                                 std::shared_ptr<const ModelVersion>(std::move(loaded).value()));
          ++snap->ready;
        } else {
          state.error = loaded.status().message();
        }
      }
      if (state.ready) {
        LogInfo("model loaded").Kv("model", name).Kv("version", state.version);
      } else {
        LogError("model failed to load")
            .Kv("model", name)
            .Kv("version", vname)
            .Kv("error", state.error);
      }
      snap->states.push_back(std::move(state));
    }
    snap->models.emplace(name, std::move(model));
  }
  std::sort(snap->states.begin(), snap->states.end(), [](const auto& a, const auto& b) {
    return std::tie(a.name, a.version) < std::tie(b.name, b.version);
  });
  std::vector<ModelState> states = snap->states;
  snapshot_.store(std::move(snap));
  return states;
}

StatusOr<std::shared_ptr<const ModelVersion>> ModelRepository::Resolve(
    std::string_view model, std::string_view version) const {
  auto snap = snapshot_.load();
  std::string_view name = model;
  std::string_view alias;
  if (auto at = model.find('@'); at != std::string_view::npos) {
    name = model.substr(0, at);
    alias = model.substr(at + 1);
    if (alias.empty()) return InvalidArgument("field 'model': alias after '@' is empty");
    if (!version.empty()) {
      return InvalidArgument("give either an alias in 'model' or a 'version', not both");
    }
  }
  auto it = snap->models.find(name);
  if (it == snap->models.end()) return NotFound("model '" + std::string(name) + "' is not loaded");
  const Model& m = it->second;
  int64_t wanted = 0;
  if (!alias.empty()) {
    auto a = m.aliases.find(alias);
    if (a == m.aliases.end()) {
      return NotFound("alias '" + std::string(alias) + "' of model '" + std::string(name) +
                      "' is not set");
    }
    wanted = a->second;
  } else if (!version.empty()) {
    auto v = ParseVersion(version);
    if (!v) return InvalidArgument("field 'version' must be a positive integer");
    wanted = *v;
  }
  if (wanted == 0) {
    if (m.versions.empty()) {
      return NotFound("model '" + std::string(name) + "' has no version that loaded");
    }
    return m.versions.rbegin()->second;
  }
  auto v = m.versions.find(wanted);
  if (v == m.versions.end()) {
    return NotFound("version " + std::to_string(wanted) + " of model '" + std::string(name) +
                    "' is not loaded");
  }
  return v->second;
}

StatusOr<std::vector<int64_t>> ModelRepository::ReadyVersions(std::string_view name) const {
  auto snap = snapshot_.load();
  auto it = snap->models.find(name.substr(0, name.find('@')));
  if (it == snap->models.end()) return NotFound("model '" + std::string(name) + "' is not loaded");
  std::vector<int64_t> out;
  for (const auto& [v, mv] : it->second.versions) out.push_back(v);
  return out;
}

std::vector<ModelState> ModelRepository::List() const { return snapshot_.load()->states; }

size_t ModelRepository::ReadyCount() const { return snapshot_.load()->ready; }

}  // namespace closedloop
