#include "serving/model_repository.h"

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <set>

#include <toml++/toml.h>

#include "core/logging.h"
#include "serving/fasttext_backend.h"
#include "serving/image_predict.h"
#include "serving/mlp_backend.h"
#include "serving/onnx_backend.h"
#include "serving/xgboost_backend.h"

namespace closedloop {
namespace fs = std::filesystem;
namespace {

std::optional<int64_t> ParseVersion(std::string_view s) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size() || v <= 0) return std::nullopt;
  return v;
}

std::string FileStamp(const fs::path& p) {
  std::error_code ec;
  auto size = fs::file_size(p, ec);
  if (ec) return "-";
  auto mtime = fs::last_write_time(p, ec).time_since_epoch().count();
  return std::to_string(size) + "@" + std::to_string(mtime);
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

StatusOr<VersionPolicy> LoadPolicy(const fs::path& file) {
  VersionPolicy p;
  std::error_code ec;
  if (!fs::exists(file, ec)) return p;
  try {
    toml::table t = toml::parse_file(file.string());
    for (const auto& [k, v] : t) {
      if (k.str() != "version_policy" && k.str() != "latest" && k.str() != "versions") {
        return InvalidArgument(file.string() + ": unknown key '" + std::string(k.str()) + "'");
      }
    }
    std::string kind = t["version_policy"].value_or(std::string("all"));
    if (kind == "latest") {
      p.kind = VersionPolicy::kLatest;
      p.latest = t["latest"].value_or(int64_t{1});
      if (p.latest < 1) return InvalidArgument(file.string() + ": 'latest' must be >= 1");
    } else if (kind == "specific") {
      p.kind = VersionPolicy::kSpecific;
      const toml::array* arr = t["versions"].as_array();
      if (arr == nullptr) return InvalidArgument(file.string() + ": 'versions' must be an array");
      for (const auto& e : *arr) {
        auto n = e.value<int64_t>();
        if (!n || *n <= 0)
          return InvalidArgument(file.string() + ": 'versions' must hold positive integers");
        p.specific.insert(*n);
      }
    } else if (kind != "all") {
      return InvalidArgument(file.string() +
                             ": 'version_policy' must be \"all\", \"latest\" or \"specific\"");
    }
  } catch (const toml::parse_error& e) {
    return InvalidArgument(file.string() + ": " + std::string(e.description()));
  }
  return p;
}

std::vector<std::string> ModelDirs(const std::string& root) {
  std::vector<std::string> out;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(root, ec)) {
    std::string n = e.path().filename().string();
    if (e.is_directory() && !n.empty() && n[0] != '.') out.push_back(n);
  }
  std::sort(out.begin(), out.end());
  return out;
}

// Fingerprint of a model directory: its version dirs and every file's stamp.
std::string ModelFingerprint(const fs::path& dir) {
  std::string fp = FileStamp(dir / "aliases.toml") + "|" + FileStamp(dir / "model.toml");
  std::vector<std::string> entries;
  std::error_code ec;
  for (const auto& v : fs::directory_iterator(dir, ec)) {
    if (v.is_directory() && v.path().filename().string()[0] != '.') {
      entries.push_back(v.path().filename().string() + ":" + VersionFingerprint(v.path().string()));
    }
  }
  std::sort(entries.begin(), entries.end());
  for (const auto& e : entries) fp += "|" + e;
  return fp;
}

}  // namespace

std::string VersionFingerprint(const std::string& dir) {
  fs::path d(dir);
  std::string fp = FileStamp(d / "config.toml");
  for (const char* f : kModelFileNames) {
    fp += "," + FileStamp(d / f);
  }
  return fp;
}

StatusOr<std::unique_ptr<ModelVersion>> LoadModelVersion(const std::string& dir, std::string name,
                                                         int64_t version,
                                                         const BatchMetricFamilies* batch_metrics) {
  auto mv = std::make_unique<ModelVersion>();
  mv->fingerprint =
      VersionFingerprint(dir);  // before reading: a change during load is seen next time
  ASSIGN_OR_RETURN(ModelConfig config, LoadModelConfig(dir + "/config.toml"));
  mv->name = std::move(name);
  mv->version = version;
  mv->version_label = std::to_string(version);
  if (config.flavor == "fasttext") {
    std::error_code ec;
    std::string file = dir + "/model.bin";
    if (!fs::exists(file, ec)) file = dir + "/model.ftz";
    if (!fs::exists(file, ec)) return NotFound("no model.bin or model.ftz in '" + dir + "'");
    ASSIGN_OR_RETURN(mv->backend, FastTextBackend::Load(file, config.temperature));
    mv->path = file;
  } else if (config.flavor == "xgboost") {
    std::error_code ec;
    std::string file = dir + "/model.json";
    if (!fs::exists(file, ec)) file = dir + "/model.ubj";
    if (!fs::exists(file, ec)) return NotFound("no model.json or model.ubj in '" + dir + "'");
    ASSIGN_OR_RETURN(mv->backend, XGBoostBackend::Load(file, config.labels));
    mv->path = file;
  } else if (config.flavor == "onnx") {
    std::string file = dir + "/model.onnx";
    ASSIGN_OR_RETURN(mv->backend, OnnxBackend::Load(file, config.labels));
    mv->path = file;
  } else if (config.flavor == "mlp") {
    std::string file = dir + "/model.mlp";
    ASSIGN_OR_RETURN(mv->backend, MlpBackend::Load(file, config.labels, config.temperature));
    mv->path = file;
  } else {
    return InvalidArgument("unsupported flavor '" + config.flavor + "' in " + dir +
                           "/config.toml (supported: fasttext, mlp, xgboost, onnx)");
  }
  if (!config.labels.empty() && config.labels != mv->backend->labels()) {
    return InvalidArgument("labels in " + dir +
                           "/config.toml do not match the labels inside the model file");
  }
  if (config.image) {
    if (Status s = CheckImageModel(*config.image, *mv->backend); !s.ok()) {
      return InvalidArgument(dir + "/config.toml: " + s.message());
    }
  }
  mv->config = std::move(config);
  if (mv->config.batching.max_batch_size > 1) {
    mv->batcher = Batcher::Start(*mv->backend, mv->config.batching, batch_metrics, mv->name,
                                 mv->version_label, mv->stats.get());
  }
  return mv;
}

ModelRepository::ModelRepository(std::string root, Family<Gauge>* versions_gauge,
                                 const BatchMetricFamilies* batch_metrics)
    : root_(std::move(root)), versions_gauge_(versions_gauge), batch_metrics_(batch_metrics) {
  snapshot_.store(std::make_shared<const Snapshot>());
}

ModelRepository::Model ModelRepository::BuildModel(const std::string& name,
                                                   const Model* old) const {
  fs::path dir = fs::path(root_) / name;
  Model model;
  model.fingerprint = ModelFingerprint(dir);
  auto aliases = LoadAliases(dir / "aliases.toml");
  if (aliases.ok()) {
    model.aliases = std::move(aliases).value();
  } else {
    LogError("model aliases ignored").Kv("model", name).Kv("error", aliases.status().message());
    if (old != nullptr) model.aliases = old->aliases;
  }
  auto policy = LoadPolicy(dir / "model.toml");
  if (!policy.ok()) {
    LogError("version policy ignored; serving all versions")
        .Kv("model", name)
        .Kv("error", policy.status().message());
  }
  VersionPolicy pol = policy.ok() ? *policy : VersionPolicy{};
  model.policy = pol;

  std::map<int64_t, std::string> found;  // version -> directory
  std::error_code ec;
  for (const auto& v : fs::directory_iterator(dir, ec)) {
    if (!v.is_directory()) continue;
    std::string vname = v.path().filename().string();
    if (vname[0] == '.') continue;
    if (auto n = ParseVersion(vname)) {
      found.emplace(*n, v.path().string());
    } else {
      model.states.push_back(
          {name, 0, false, "version directory '" + vname + "' is not a positive integer"});
    }
  }
  std::set<int64_t> wanted;
  for (auto it = found.rbegin(); it != found.rend(); ++it) {
    bool take =
        pol.kind == VersionPolicy::kAll ||
        (pol.kind == VersionPolicy::kSpecific && pol.specific.count(it->first)) ||
        (pol.kind == VersionPolicy::kLatest && static_cast<int64_t>(wanted.size()) < pol.latest);
    if (take) wanted.insert(it->first);
  }
  for (int64_t version : wanted) {
    const std::string& vdir = found[version];
    ModelState state{name, version, false, ""};
    std::shared_ptr<const ModelVersion> previous;
    if (old != nullptr) {
      auto it = old->versions.find(version);
      if (it != old->versions.end()) previous = it->second;
    }
    if (previous && previous->fingerprint == VersionFingerprint(vdir)) {
      model.versions.emplace(version, previous);  // unchanged: keep serving the loaded one
      state.ready = true;
    } else {
      auto loaded = LoadModelVersion(vdir, name, version, batch_metrics_);
      if (loaded.ok()) {
        model.versions.emplace(version,
                               std::shared_ptr<const ModelVersion>(std::move(loaded).value()));
        state.ready = true;
        LogInfo("model loaded").Kv("model", name).Kv("version", version);
      } else if (previous) {
        // The new files are broken: the version in memory keeps serving.
        model.versions.emplace(version, previous);
        state.ready = true;
        state.error = "reload failed, previous load still serving: " + loaded.status().message();
        LogError("model reload failed; previous load keeps serving")
            .Kv("model", name)
            .Kv("version", version)
            .Kv("error", loaded.status().message());
      } else {
        state.error = loaded.status().message();
        LogError("model failed to load")
            .Kv("model", name)
            .Kv("version", version)
            .Kv("error", state.error);
      }
    }
    model.states.push_back(std::move(state));
  }
  std::sort(model.states.begin(), model.states.end(),
            [](const auto& a, const auto& b) { return a.version < b.version; });
  return model;
}

void ModelRepository::Publish(std::shared_ptr<Snapshot> snap) {
  if (versions_gauge_ != nullptr) {
    size_t ready = 0, failed = 0;
    for (const auto& [name, m] : snap->models) {
      for (const auto& s : m.states) (s.ready ? ready : failed)++;
    }
    versions_gauge_->Labels({"ready"}).Set(static_cast<double>(ready));
    versions_gauge_->Labels({"failed"}).Set(static_cast<double>(failed));
  }
  snapshot_.store(std::move(snap));
}

StatusOr<std::vector<ModelState>> ModelRepository::LoadAll() {
  std::lock_guard lock(write_mu_);
  std::error_code ec;
  if (!fs::is_directory(root_, ec)) {
    return NotFound("model repository '" + root_ + "' is not a directory");
  }
  auto old = snapshot_.load();
  auto snap = std::make_shared<Snapshot>();
  std::vector<ModelState> states;
  for (const std::string& name : ModelDirs(root_)) {
    auto it = old->models.find(name);
    Model m = BuildModel(name, it == old->models.end() ? nullptr : &it->second);
    states.insert(states.end(), m.states.begin(), m.states.end());
    snap->models.emplace(name, std::move(m));
  }
  Publish(std::move(snap));
  return states;
}

StatusOr<std::vector<ModelState>> ModelRepository::LoadModel(std::string_view name) {
  if (name.empty() || name[0] == '.' || name.find('/') != std::string_view::npos ||
      name.find('@') != std::string_view::npos) {
    return InvalidArgument("'" + std::string(name) + "' is not a model directory name");
  }
  std::lock_guard lock(write_mu_);
  std::error_code ec;
  if (!fs::is_directory(fs::path(root_) / name, ec)) {
    return NotFound("no model directory '" + std::string(name) + "' in '" + root_ + "'");
  }
  auto old = snapshot_.load();
  auto snap = std::make_shared<Snapshot>(*old);
  auto it = old->models.find(name);
  Model m = BuildModel(std::string(name), it == old->models.end() ? nullptr : &it->second);
  std::vector<ModelState> states = m.states;
  snap->models.insert_or_assign(std::string(name), std::move(m));
  Publish(std::move(snap));
  std::string failures;
  for (const auto& s : states) {
    if (!s.error.empty()) {
      failures += (failures.empty() ? "" : "; ") + std::string("version ") +
                  std::to_string(s.version) + ": " + s.error;
    }
  }
  if (!failures.empty()) {
    return FailedPrecondition("model '" + std::string(name) + "': " + failures);
  }
  return states;
}

Status ModelRepository::UnloadModel(std::string_view name) {
  std::lock_guard lock(write_mu_);
  auto old = snapshot_.load();
  if (old->models.find(name) == old->models.end()) {
    return NotFound("model '" + std::string(name) + "' is not loaded");
  }
  auto snap = std::make_shared<Snapshot>(*old);
  snap->models.erase(snap->models.find(name));
  Publish(std::move(snap));
  LogInfo("model unloaded").Kv("model", name);
  return OkStatus();
}

std::vector<std::string> ModelRepository::PollOnce() {
  std::lock_guard lock(write_mu_);
  auto old = snapshot_.load();
  std::vector<std::string> changed;
  std::error_code ec;
  if (!fs::is_directory(root_, ec)) return changed;
  auto snap = std::make_shared<Snapshot>();
  for (const std::string& name : ModelDirs(root_)) {
    auto it = old->models.find(name);
    if (it != old->models.end() &&
        it->second.fingerprint == ModelFingerprint(fs::path(root_) / name)) {
      snap->models.emplace(name, it->second);
      continue;
    }
    changed.push_back(name);
    snap->models.emplace(name, BuildModel(name, it == old->models.end() ? nullptr : &it->second));
  }
  for (const auto& [name, m] : old->models) {
    if (snap->models.find(name) == snap->models.end()) changed.push_back(name);  // removed
  }
  if (!changed.empty()) Publish(std::move(snap));
  return changed;
}

void ModelRepository::StopBatchers() {
  for (const auto& [name, m] : snapshot_.load()->models) {
    for (const auto& [v, mv] : m.versions) {
      if (mv->batcher) mv->batcher->Stop();
    }
  }
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
  if (it == snap->models.end()) {
    std::error_code ec;
    if (!name.empty() && name.find('/') == std::string_view::npos && name[0] != '.' &&
        fs::is_directory(fs::path(root_) / std::string(name), ec)) {
      return Unavailable("model '" + std::string(name) +
                         "' is not ready: it is unloaded (POST /v2/repository/models/" +
                         std::string(name) + "/load serves it)");
    }
    return NotFound("model '" + std::string(name) + "' is not loaded");
  }
  const Model& m = it->second;
  // Why a version that exists does not serve, from the last load.
  auto not_ready = [&m, name](int64_t version) -> std::optional<Status> {
    for (const ModelState& st : m.states) {
      if (!st.ready && (version == 0 || st.version == version)) {
        return Unavailable((version == 0 ? "model '" + std::string(name) + "'"
                                         : "version " + std::to_string(version) + " of model '" +
                                               std::string(name) + "'") +
                           " is not ready: " + st.error);
      }
    }
    return std::nullopt;
  };
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
      if (auto why = not_ready(0)) return *why;
      return NotFound("model '" + std::string(name) + "' has no version that loaded");
    }
    return m.versions.rbegin()->second;
  }
  auto v = m.versions.find(wanted);
  if (v == m.versions.end()) {
    if (auto why = not_ready(wanted)) return *why;
    return NotFound("version " + std::to_string(wanted) + " of model '" + std::string(name) +
                    "' is not loaded");
  }
  return v->second;
}

std::vector<ModelState> ModelRepository::List() const {
  std::vector<ModelState> out;
  for (const auto& [name, m] : snapshot_.load()->models) {
    out.insert(out.end(), m.states.begin(), m.states.end());
  }
  return out;
}

std::vector<ModelState> ModelRepository::Index() const {
  auto snap = snapshot_.load();
  std::vector<ModelState> out = List();
  for (const std::string& name : ModelDirs(root_)) {
    if (snap->models.count(name)) continue;
    std::error_code ec;
    std::set<int64_t> versions;
    for (const auto& v : fs::directory_iterator(fs::path(root_) / name, ec)) {
      if (!v.is_directory()) continue;
      if (auto n = ParseVersion(v.path().filename().string())) versions.insert(*n);
    }
    for (int64_t v : versions) out.push_back({name, v, false, "unloaded"});
    if (versions.empty()) out.push_back({name, 0, false, "unloaded"});
  }
  std::sort(out.begin(), out.end(), [](const ModelState& a, const ModelState& b) {
    return a.name != b.name ? a.name < b.name : a.version < b.version;
  });
  return out;
}

StatusOr<VersionPolicy> ModelRepository::Policy(std::string_view name) const {
  auto snap = snapshot_.load();
  auto it = snap->models.find(name);
  if (it == snap->models.end()) return NotFound("model '" + std::string(name) + "' is not loaded");
  return it->second.policy;
}

StatusOr<std::vector<int64_t>> ModelRepository::ReadyVersions(std::string_view name) const {
  auto snap = snapshot_.load();
  auto it = snap->models.find(name.substr(0, name.find('@')));
  if (it == snap->models.end()) return NotFound("model '" + std::string(name) + "' is not loaded");
  std::vector<int64_t> out;
  for (const auto& [v, mv] : it->second.versions) out.push_back(v);
  return out;
}

size_t ModelRepository::ReadyCount() const {
  size_t n = 0;
  for (const auto& [name, m] : snapshot_.load()->models) n += m.versions.size();
  return n;
}

}  // namespace closedloop
