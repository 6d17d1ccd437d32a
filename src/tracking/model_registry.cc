#include "tracking/model_registry.h"

#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>

#include "core/sha256.h"
#include "serving/model_config.h"
#include "store/migrations.h"
#include "tracking/artifact_store.h"
#include "tracking/model_card.h"
#include "tracking/registry_rules.h"
#include "tracking/run_filter.h"
#include "tracking/tracking_schema.h"

namespace closedloop {
namespace fs = std::filesystem;

namespace {

constexpr std::string_view kVersionColumns =
    "SELECT name, version, creation_time, last_updated_time, description, user_id, "
    "current_stage, source, storage_path, run_id, status, flavor, model_sha256, model_size, "
    "metrics_json, model_card FROM model_versions ";

std::string ReadFile(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
}

// A transaction that rolls back unless committed.
class Transaction {
 public:
  explicit Transaction(SqliteDb& db) : db_(db) {}
  Status Begin() { return db_.Exec("BEGIN IMMEDIATE"); }
  Status Commit() {
    RETURN_IF_ERROR(db_.Exec("COMMIT"));
    done_ = true;
    return OkStatus();
  }
  ~Transaction() {
    if (!done_) (void)db_.Exec("ROLLBACK");
  }

 private:
  SqliteDb& db_;
  bool done_ = false;
};

// Every row of a prepared statement: its first column, or its first two as a pair.
StatusOr<std::vector<std::string>> Column0(SqliteStatement& stmt) {
  std::vector<std::string> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return out;
    out.push_back(stmt.ColumnText(0));
  }
}
StatusOr<KeyValues> Pairs(SqliteStatement& stmt) {
  KeyValues out;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) return out;
    out.emplace_back(stmt.ColumnText(0), stmt.ColumnText(1));
  }
}

}  // namespace

ModelRegistry::ModelRegistry(std::unique_ptr<SqliteDb> db, std::string repository,
                             const Clock& clock)
    : db_(std::move(db)), repository_(std::move(repository)), clock_(clock) {}

StatusOr<std::unique_ptr<ModelRegistry>> ModelRegistry::Open(const std::string& db_path,
                                                             std::string repository,
                                                             const Clock& clock) {
  ASSIGN_OR_RETURN(auto db, SqliteDb::Open(db_path, SqliteDb::Mode::kReadWrite));
  RETURN_IF_ERROR(ApplyMigrations(*db, TrackingMigrations()).WithContext("model registry"));
  ASSIGN_OR_RETURN(auto runs, TrackingStore::Open(db_path, std::string(kArtifactScheme), clock));
  std::unique_ptr<ModelRegistry> r(new ModelRegistry(std::move(db), std::move(repository), clock));
  r->runs_ = std::move(runs);
  r->artifacts_ =
      std::make_unique<ArtifactStore>((fs::path(db_path).parent_path() / "artifacts").string());
  return r;
}

StatusOr<std::unique_ptr<ModelRegistry>> ModelRegistry::OpenInDataDir(const std::string& data_dir,
                                                                      std::string repository,
                                                                      const Clock& clock) {
  return Open(data_dir + "/tracking.db", std::move(repository), clock);
}

void ModelRegistry::SetChangeListener(std::function<void(const std::string&)> listener) {
  listener_ = std::move(listener);
}

void ModelRegistry::Notify(const std::string& name) {
  if (listener_) listener_(name);
}

Status ModelRegistry::RequireModel(const std::string& name) {
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare("SELECT 1 FROM registered_models WHERE name = ?"));
  stmt.BindText(1, name);
  ASSIGN_OR_RETURN(bool found, stmt.Step());
  if (!found) return NotFound("registered model '" + name + "' does not exist");
  return OkStatus();
}

Status ModelRegistry::InsertModel(const std::string& name, const std::string& description) {
  int64_t now = clock_.NowUnixMillis();
  ASSIGN_OR_RETURN(auto ins, db_->Prepare("INSERT INTO registered_models VALUES (?, ?, ?, ?)"));
  ins.BindText(1, name);
  ins.BindInt(2, now);
  ins.BindInt(3, now);
  ins.BindText(4, description);
  return ins.Step().status();
}

StatusOr<ModelVersionInfo> ModelRegistry::ReadVersionRow(SqliteStatement& s) {
  ModelVersionInfo v;
  v.name = s.ColumnText(0);
  v.version = s.ColumnInt(1);
  v.creation_time = s.ColumnInt(2);
  v.last_updated_time = s.ColumnInt(3);
  v.description = s.ColumnText(4);
  v.user_id = s.ColumnText(5);
  v.current_stage = s.ColumnText(6);
  v.source = s.ColumnText(7);
  v.storage_path = s.ColumnText(8);
  v.run_id = s.ColumnText(9);
  v.status = s.ColumnText(10);
  v.flavor = s.ColumnText(11);
  v.model_sha256 = s.ColumnText(12);
  v.model_size = s.ColumnInt(13);
  v.metrics_json = s.ColumnText(14);
  v.model_card = s.ColumnText(15);
  ASSIGN_OR_RETURN(auto tags, db_->Prepare("SELECT key, value FROM model_version_tags WHERE "
                                           "name = ? AND version = ? ORDER BY key"));
  tags.BindText(1, v.name);
  tags.BindInt(2, v.version);
  ASSIGN_OR_RETURN(v.tags, Pairs(tags));
  ASSIGN_OR_RETURN(auto aliases, db_->Prepare("SELECT alias FROM registered_model_aliases WHERE "
                                              "name = ? AND version = ? ORDER BY alias"));
  aliases.BindText(1, v.name);
  aliases.BindInt(2, v.version);
  ASSIGN_OR_RETURN(v.aliases, Column0(aliases));
  return v;
}

StatusOr<ModelVersionInfo> ModelRegistry::LoadVersion(const std::string& name, int64_t version) {
  ASSIGN_OR_RETURN(auto stmt,
                   db_->Prepare(std::string(kVersionColumns) + "WHERE name = ? AND version = ?"));
  stmt.BindText(1, name);
  stmt.BindInt(2, version);
  ASSIGN_OR_RETURN(bool found, stmt.Step());
  if (!found) {
    return NotFound("model version '" + name + "' version " + std::to_string(version) +
                    " does not exist");
  }
  return ReadVersionRow(stmt);
}

StatusOr<RegisteredModel> ModelRegistry::LoadModel(const std::string& name) {
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare("SELECT name, creation_time, last_updated_time, "
                                           "description FROM registered_models WHERE name = ?"));
  stmt.BindText(1, name);
  ASSIGN_OR_RETURN(bool found, stmt.Step());
  if (!found) return NotFound("registered model '" + name + "' does not exist");
  RegisteredModel m;
  m.name = stmt.ColumnText(0);
  m.creation_time = stmt.ColumnInt(1);
  m.last_updated_time = stmt.ColumnInt(2);
  m.description = stmt.ColumnText(3);
  ASSIGN_OR_RETURN(auto tags, db_->Prepare("SELECT key, value FROM registered_model_tags WHERE "
                                           "name = ? ORDER BY key"));
  tags.BindText(1, name);
  ASSIGN_OR_RETURN(m.tags, Pairs(tags));
  ASSIGN_OR_RETURN(auto aliases, db_->Prepare("SELECT alias, version FROM "
                                              "registered_model_aliases WHERE name = ? ORDER BY "
                                              "alias"));
  aliases.BindText(1, name);
  for (;;) {
    ASSIGN_OR_RETURN(bool row, aliases.Step());
    if (!row) break;
    m.aliases.emplace_back(aliases.ColumnText(0), aliases.ColumnInt(1));
  }
  // The newest version of each stage (MLflow's latest_versions).
  ASSIGN_OR_RETURN(auto latest,
                   db_->Prepare(std::string(kVersionColumns) +
                                "WHERE name = ? AND version IN (SELECT MAX(version) FROM "
                                "model_versions WHERE name = ? GROUP BY current_stage) ORDER BY "
                                "version"));
  latest.BindText(1, name);
  latest.BindText(2, name);
  for (;;) {
    ASSIGN_OR_RETURN(bool row, latest.Step());
    if (!row) break;
    ASSIGN_OR_RETURN(ModelVersionInfo v, ReadVersionRow(latest));
    m.latest_versions.push_back(std::move(v));
  }
  return m;
}

StatusOr<RegisteredModel> ModelRegistry::CreateRegisteredModel(const std::string& name,
                                                               const std::string& description,
                                                               const KeyValues& tags) {
  RETURN_IF_ERROR(ValidateModelName(name));
  std::lock_guard lock(mu_);
  if (RequireModel(name).ok()) {
    return AlreadyExists("registered model '" + name + "' already exists");
  }
  Transaction tx(*db_);
  RETURN_IF_ERROR(tx.Begin());
  RETURN_IF_ERROR(InsertModel(name, description));
  ASSIGN_OR_RETURN(auto tag, db_->Prepare("INSERT OR REPLACE INTO registered_model_tags VALUES "
                                          "(?, ?, ?)"));
  for (const auto& [k, v] : tags) {
    if (k.empty()) return InvalidArgument("tag key must not be empty");
    tag.BindText(1, name);
    tag.BindText(2, k);
    tag.BindText(3, v);
    RETURN_IF_ERROR(tag.Step().status());
    RETURN_IF_ERROR(tag.Reset());
  }
  RETURN_IF_ERROR(tx.Commit());
  return LoadModel(name);
}

StatusOr<RegisteredModel> ModelRegistry::GetRegisteredModel(const std::string& name) {
  std::lock_guard lock(mu_);
  return LoadModel(name);
}

StatusOr<std::vector<RegisteredModel>> ModelRegistry::SearchRegisteredModels(
    const std::string& filter, int64_t max_results) {
  ASSIGN_OR_RETURN(auto clauses, ParseRegistryFilter(filter, {"name"}));
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare("SELECT name FROM registered_models ORDER BY name"));
  std::vector<std::string> names;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    std::string name = stmt.ColumnText(0);
    if (std::all_of(clauses.begin(), clauses.end(),
                    [&](const RunFilterClause& c) { return ClauseMatches(c, name); })) {
      names.push_back(std::move(name));
    }
  }
  std::vector<RegisteredModel> out;
  for (const auto& n : names) {
    if (max_results > 0 && static_cast<int64_t>(out.size()) >= max_results) break;
    ASSIGN_OR_RETURN(RegisteredModel m, LoadModel(n));
    out.push_back(std::move(m));
  }
  return out;
}

StatusOr<RegisteredModel> ModelRegistry::UpdateRegisteredModel(const std::string& name,
                                                               const std::string& description) {
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(RequireModel(name));
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare("UPDATE registered_models SET description = ?, "
                                           "last_updated_time = ? WHERE name = ?"));
  stmt.BindText(1, description);
  stmt.BindInt(2, clock_.NowUnixMillis());
  stmt.BindText(3, name);
  RETURN_IF_ERROR(stmt.Step().status());
  return LoadModel(name);
}

Status ModelRegistry::SetRegisteredModelTag(const std::string& name, const std::string& key,
                                            const std::string& value) {
  if (key.empty()) return InvalidArgument("'key' must not be empty");
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(RequireModel(name));
  ASSIGN_OR_RETURN(auto tag, db_->Prepare("INSERT OR REPLACE INTO registered_model_tags VALUES "
                                          "(?, ?, ?)"));
  tag.BindText(1, name);
  tag.BindText(2, key);
  tag.BindText(3, value);
  return tag.Step().status();
}

Status ModelRegistry::DeleteRegisteredModelTag(const std::string& name, const std::string& key) {
  if (key.empty()) return InvalidArgument("'key' must not be empty");
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(RequireModel(name));
  ASSIGN_OR_RETURN(auto del,
                   db_->Prepare("DELETE FROM registered_model_tags WHERE name = ? AND key = ?"));
  del.BindText(1, name);
  del.BindText(2, key);
  RETURN_IF_ERROR(del.Step().status());
  if (db_->Changes() == 0) {
    return NotFound("registered model '" + name + "' has no tag '" + key + "'");
  }
  return OkStatus();
}

Status ModelRegistry::SetModelVersionTag(const std::string& name, int64_t version,
                                         const std::string& key, const std::string& value) {
  if (key.empty()) return InvalidArgument("'key' must not be empty");
  if (key.size() > 250) return InvalidArgument("'key' is longer than 250 characters");
  if (key.rfind("closedloop.", 0) == 0) {
    return InvalidArgument("tag key '" + key + "': the prefix 'closedloop.' is reserved");
  }
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(LoadVersion(name, version).status());
  ASSIGN_OR_RETURN(auto tag,
                   db_->Prepare("INSERT OR REPLACE INTO model_version_tags VALUES (?, ?, ?, ?)"));
  tag.BindText(1, name);
  tag.BindInt(2, version);
  tag.BindText(3, key);
  tag.BindText(4, value);
  return tag.Step().status();
}

Status ModelRegistry::DeleteModelVersionTag(const std::string& name, int64_t version,
                                            const std::string& key) {
  if (key.empty()) return InvalidArgument("'key' must not be empty");
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(LoadVersion(name, version).status());
  ASSIGN_OR_RETURN(auto del, db_->Prepare("DELETE FROM model_version_tags WHERE name = ? AND "
                                          "version = ? AND key = ?"));
  del.BindText(1, name);
  del.BindInt(2, version);
  del.BindText(3, key);
  RETURN_IF_ERROR(del.Step().status());
  if (db_->Changes() == 0) {
    return NotFound("model version '" + name + "' " + std::to_string(version) + " has no tag '" +
                    key + "'");
  }
  return OkStatus();
}

Status ModelRegistry::DeleteRegisteredModel(const std::string& name) {
  {
    std::lock_guard lock(mu_);
    RETURN_IF_ERROR(RequireModel(name));
    Transaction tx(*db_);
    RETURN_IF_ERROR(tx.Begin());
    for (const char* table : {"registered_models", "registered_model_tags", "model_versions",
                              "model_version_tags", "registered_model_aliases"}) {
      ASSIGN_OR_RETURN(auto del,
                       db_->Prepare(std::string("DELETE FROM ") + table + " WHERE name = ?"));
      del.BindText(1, name);
      RETURN_IF_ERROR(del.Step().status());
    }
    RETURN_IF_ERROR(tx.Commit());
    // The versions' files go too (as MLflow deletes a deleted model's artifacts);
    // requests in flight finish on the versions they hold.
    std::error_code ec;
    fs::path dir = fs::path(repository_) / name;
    fs::path gone = fs::path(repository_) / ("." + name + ".deleted-" + std::to_string(getpid()));
    fs::rename(dir, gone, ec);
    fs::remove_all(gone, ec);
  }
  Notify(name);
  return OkStatus();
}

StatusOr<ModelVersionInfo> ModelRegistry::CreateModelVersion(const NewModelVersion& nv) {
  RETURN_IF_ERROR(ValidateModelName(nv.name));
  if (nv.source.empty()) return InvalidArgument("'source' is required");
  std::string source = nv.source;
  if (source.rfind("file://", 0) == 0) source = source.substr(7);
  if (auto rel = ArtifactSchemePath(source)) {
    // mlflow-artifacts:/<path>: a directory uploaded through the artifact API.
    auto local = artifacts_->Resolve(*rel);
    if (!local.ok())
      return InvalidArgument("source '" + nv.source + "': " + local.status().message());
    source = *local;
  } else if (source.rfind("runs:/", 0) == 0) {
    // runs:/<run_id>/<path>: the run's model directory (tag model.path, written by
    // `closedloop train`), else <path> among the run's uploaded artifacts.
    std::string rest = source.substr(6);
    std::string run_id = rest.substr(0, rest.find('/'));
    std::string sub = rest.size() > run_id.size() ? rest.substr(run_id.size() + 1) : "";
    auto run = runs_->GetRun(run_id);
    if (!run.ok())
      return NotFound("source '" + nv.source + "': run '" + run_id + "' does not exist");
    std::string model_path;
    for (const auto& [k, v] : run->tags) {
      if (k == "model.path") model_path = v;
    }
    const std::string& uri = run->info.artifact_uri;
    if (!model_path.empty()) {
      source = fs::path(model_path).parent_path().string();
    } else if (auto run_dir = ArtifactSchemePath(uri)) {
      std::string rel(*run_dir);
      if (!sub.empty()) rel += "/" + sub;
      auto local = artifacts_->Resolve(rel);
      if (!local.ok()) {
        return InvalidArgument("source '" + nv.source + "': " + local.status().message());
      }
      source = *local;
    } else {
      return InvalidArgument("source '" + nv.source +
                             "': the run recorded no model.path and has no served artifacts");
    }
  }
  std::error_code ec;
  if (!fs::is_directory(source, ec)) {
    return InvalidArgument("source '" + nv.source + "' does not exist or is not a directory");
  }
  auto config = LoadModelConfig((fs::path(source) / "config.toml").string());
  if (!config.ok()) {
    return InvalidArgument("source '" + nv.source +
                           "' is not a model version directory: " + config.status().message());
  }
  fs::path model_file;
  for (const char* f : kModelFileNames) {
    if (fs::exists(fs::path(source) / f, ec)) {
      model_file = fs::path(source) / f;
      break;
    }
  }
  if (model_file.empty()) {
    return InvalidArgument("source '" + nv.source + "' holds no model file (" + kModelFileList +
                           ")");
  }
  std::optional<Run> run;
  if (!nv.run_id.empty()) {
    auto r = runs_->GetRun(nv.run_id);
    if (!r.ok()) return NotFound("run '" + nv.run_id + "' does not exist");
    run = std::move(r).value();
  }
  std::string bytes = ReadFile(model_file);
  std::string sha = Sha256Hex(bytes);
  const auto size = static_cast<int64_t>(bytes.size());
  bytes.clear();
  bytes.shrink_to_fit();

  ModelVersionInfo created;
  {
    std::lock_guard lock(mu_);
    // A model created here is inserted in the version's transaction: both or neither.
    const bool new_model = !RequireModel(nv.name).ok();
    if (new_model && !nv.create_model_if_missing) {
      return NotFound("registered model '" + nv.name + "' does not exist");
    }
    // Next version: above every recorded version and every directory on disk.
    int64_t version = 1;
    ASSIGN_OR_RETURN(auto max,
                     db_->Prepare("SELECT COALESCE(MAX(version), 0) FROM model_versions WHERE "
                                  "name = ?"));
    max.BindText(1, nv.name);
    RETURN_IF_ERROR(max.Step().status());
    version = max.ColumnInt(0) + 1;
    fs::path model_dir = fs::path(repository_) / nv.name;
    for (const auto& e : fs::directory_iterator(model_dir, ec)) {
      const std::string n = e.path().filename().string();
      if (!n.empty() && std::all_of(n.begin(), n.end(), ::isdigit) && n.size() < 18) {
        version = std::max<int64_t>(version, std::stoll(n) + 1);
      }
    }
    fs::path target = model_dir / std::to_string(version);
    fs::path staging = model_dir / ("." + std::to_string(version) + ".registering");
    fs::create_directories(model_dir, ec);
    fs::remove_all(staging, ec);
    if (nv.move_source) {
      fs::rename(source, staging, ec);
    } else {
      fs::copy(source, staging, fs::copy_options::recursive, ec);
    }
    if (ec) {
      fs::remove_all(staging, ec);
      return Internal("cannot place the model in '" + target.string() + "': " + ec.message());
    }
    struct Undo {
      fs::path dir;
      ~Undo() {
        std::error_code e;
        if (!dir.empty()) fs::remove_all(dir, e);
      }
    } undo{staging};
    std::string metrics = ReadFile(staging / "metrics.json");
    if (metrics.empty()) metrics = "{}";
    int64_t now = clock_.NowUnixMillis();
    ModelCardInput card{nv.name,
                        version,
                        config->flavor,
                        nv.description,
                        nv.recorded_source.empty() ? nv.source : nv.recorded_source,
                        sha,
                        size,
                        now,
                        config->temperature,
                        run,
                        metrics};
    std::string card_md = RenderModelCard(card);
    {
      std::ofstream out(staging / "MODEL_CARD.md", std::ios::trunc);
      out << card_md;
      if (!out) return Internal("cannot write the model card");
    }
    fs::rename(staging, target, ec);
    if (ec)
      return Internal("cannot move the model into '" + target.string() + "': " + ec.message());
    undo.dir = target;  // until the row is committed
    Transaction tx(*db_);
    RETURN_IF_ERROR(tx.Begin());
    if (new_model) RETURN_IF_ERROR(InsertModel(nv.name, ""));
    ASSIGN_OR_RETURN(auto ins, db_->Prepare("INSERT INTO model_versions VALUES (?, ?, ?, ?, ?, ?, "
                                            "'None', ?, ?, ?, 'READY', ?, ?, ?, ?, ?)"));
    ins.BindText(1, nv.name);
    ins.BindInt(2, version);
    ins.BindInt(3, now);
    ins.BindInt(4, now);
    ins.BindText(5, nv.description);
    ins.BindText(6, nv.user_id);
    ins.BindText(7, nv.recorded_source.empty() ? nv.source : nv.recorded_source);
    ins.BindText(8, target.string());
    ins.BindText(9, nv.run_id);
    ins.BindText(10, config->flavor);
    ins.BindText(11, sha);
    ins.BindInt(12, size);
    ins.BindText(13, metrics);
    ins.BindText(14, card_md);
    RETURN_IF_ERROR(ins.Step().status());
    ASSIGN_OR_RETURN(auto tag,
                     db_->Prepare("INSERT OR REPLACE INTO model_version_tags VALUES (?, ?, ?, ?)"));
    for (const auto& [k, v] : nv.tags) {
      if (k.empty()) return InvalidArgument("tag key must not be empty");
      tag.BindText(1, nv.name);
      tag.BindInt(2, version);
      tag.BindText(3, k);
      tag.BindText(4, v);
      RETURN_IF_ERROR(tag.Step().status());
      RETURN_IF_ERROR(tag.Reset());
    }
    ASSIGN_OR_RETURN(auto touch, db_->Prepare("UPDATE registered_models SET last_updated_time = "
                                              "? WHERE name = ?"));
    touch.BindInt(1, now);
    touch.BindText(2, nv.name);
    RETURN_IF_ERROR(touch.Step().status());
    RETURN_IF_ERROR(tx.Commit());
    undo.dir.clear();
    ASSIGN_OR_RETURN(created, LoadVersion(nv.name, version));
  }
  Notify(nv.name);
  return created;
}

StatusOr<ModelVersionInfo> ModelRegistry::GetModelVersion(const std::string& name,
                                                          int64_t version) {
  std::lock_guard lock(mu_);
  return LoadVersion(name, version);
}

StatusOr<std::vector<ModelVersionInfo>> ModelRegistry::SearchModelVersions(
    const std::string& filter, int64_t max_results) {
  ASSIGN_OR_RETURN(auto clauses, ParseRegistryFilter(filter, {"name", "run_id", "source"}));
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto stmt,
                   db_->Prepare(std::string(kVersionColumns) + "ORDER BY name, version DESC"));
  std::vector<ModelVersionInfo> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    std::string name = stmt.ColumnText(0), run_id = stmt.ColumnText(9), source = stmt.ColumnText(7);
    bool keep = std::all_of(clauses.begin(), clauses.end(), [&](const RunFilterClause& c) {
      return ClauseMatches(c, c.key == "name" ? name : c.key == "run_id" ? run_id : source);
    });
    if (!keep) continue;
    ASSIGN_OR_RETURN(ModelVersionInfo v, ReadVersionRow(stmt));
    out.push_back(std::move(v));
    if (max_results > 0 && static_cast<int64_t>(out.size()) >= max_results) break;
  }
  return out;
}

StatusOr<VersionPage> ModelRegistry::SearchModelVersions(const VersionSearch& q) {
  RegistryFilterExtras extras;
  extras.tags = true;
  extras.numeric_keys = {"version_number"};
  ASSIGN_OR_RETURN(auto clauses,
                   ParseRegistryFilter(q.filter, {"name", "run_id", "source"}, extras));
  if (q.max_results < 1 || q.max_results > 200000) {
    return InvalidArgument("'max_results' must be in [1, 200000], got " +
                           std::to_string(q.max_results));
  }
  // The page token is the offset of the page's first version, as decimal digits.
  size_t offset = 0;
  if (!q.page_token.empty()) {
    auto [ptr, ec] =
        std::from_chars(q.page_token.data(), q.page_token.data() + q.page_token.size(), offset);
    if (ec != std::errc() || ptr != q.page_token.data() + q.page_token.size()) {
      return InvalidArgument("'page_token' '" + q.page_token + "' is not a token this server gave");
    }
  }
  struct Key {
    int field;  // 0 name, 1 version, 2 created, 3 updated
    bool desc;
  };
  std::vector<Key> keys;
  for (const std::string& entry : q.order_by) {
    std::istringstream in(entry);
    std::string field, dir, extra;
    in >> field >> dir >> extra;
    for (char& ch : dir) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    static const char* kFields[] = {"name", "version_number", "creation_timestamp",
                                    "last_updated_timestamp"};
    auto f = std::find(std::begin(kFields), std::end(kFields), field);
    if (f == std::end(kFields) || !extra.empty() ||
        (!dir.empty() && dir != "ASC" && dir != "DESC")) {
      return InvalidArgument("'order_by' entry '" + entry +
                             "': expected one of name, version_number, creation_timestamp, "
                             "last_updated_timestamp, then ASC or DESC");
    }
    keys.push_back({static_cast<int>(f - std::begin(kFields)), dir == "DESC"});
  }
  keys.push_back({0, false});
  keys.push_back({1, true});

  std::vector<ModelVersionInfo> all;
  {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(auto stmt, db_->Prepare(std::string(kVersionColumns) + "ORDER BY name"));
    for (;;) {
      ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      ASSIGN_OR_RETURN(ModelVersionInfo v, ReadVersionRow(stmt));
      bool keep = std::all_of(clauses.begin(), clauses.end(), [&](const RunFilterClause& c) {
        if (c.entity == "tags") {
          auto t = std::find_if(v.tags.begin(), v.tags.end(),
                                [&](const auto& kv) { return kv.first == c.key; });
          return t != v.tags.end() && ClauseMatches(c, t->second);
        }
        if (c.key == "version_number")
          return ClauseMatchesNumber(c, static_cast<double>(v.version));
        return ClauseMatches(c, c.key == "name" ? v.name : c.key == "run_id" ? v.run_id : v.source);
      });
      if (keep) all.push_back(std::move(v));
    }
  }
  auto field = [](const ModelVersionInfo& v, int f) -> int64_t {
    return f == 1 ? v.version : f == 2 ? v.creation_time : v.last_updated_time;
  };
  std::stable_sort(all.begin(), all.end(),
                   [&](const ModelVersionInfo& a, const ModelVersionInfo& b) {
                     for (const Key& k : keys) {
                       int cmp = k.field == 0 ? a.name.compare(b.name)
                                              : (field(a, k.field) < field(b, k.field)   ? -1
                                                 : field(a, k.field) > field(b, k.field) ? 1
                                                                                         : 0);
                       if (cmp != 0) return k.desc ? cmp > 0 : cmp < 0;
                     }
                     return false;
                   });
  VersionPage page;
  if (offset >= all.size()) return page;
  const size_t end = std::min(all.size(), offset + static_cast<size_t>(q.max_results));
  page.versions.assign(std::make_move_iterator(all.begin() + static_cast<long>(offset)),
                       std::make_move_iterator(all.begin() + static_cast<long>(end)));
  if (end < all.size()) page.next_page_token = std::to_string(end);
  return page;
}

StatusOr<ModelVersionInfo> ModelRegistry::UpdateModelVersion(const std::string& name,
                                                             int64_t version,
                                                             const std::string& description) {
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(LoadVersion(name, version).status());
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare("UPDATE model_versions SET description = ?, "
                                           "last_updated_time = ? WHERE name = ? AND version = ?"));
  stmt.BindText(1, description);
  stmt.BindInt(2, clock_.NowUnixMillis());
  stmt.BindText(3, name);
  stmt.BindInt(4, version);
  RETURN_IF_ERROR(stmt.Step().status());
  return LoadVersion(name, version);
}

Status ModelRegistry::DeleteModelVersion(const std::string& name, int64_t version) {
  {
    std::lock_guard lock(mu_);
    ASSIGN_OR_RETURN(ModelVersionInfo v, LoadVersion(name, version));
    Transaction tx(*db_);
    RETURN_IF_ERROR(tx.Begin());
    for (const char* table : {"model_versions", "model_version_tags", "registered_model_aliases"}) {
      ASSIGN_OR_RETURN(auto del, db_->Prepare(std::string("DELETE FROM ") + table +
                                              " WHERE name = ? AND version = ?"));
      del.BindText(1, name);
      del.BindInt(2, version);
      RETURN_IF_ERROR(del.Step().status());
    }
    RETURN_IF_ERROR(tx.Commit());
    RETURN_IF_ERROR(WriteAliasesFile(name));
    std::error_code ec;
    fs::path gone = fs::path(v.storage_path).parent_path() /
                    ("." + std::to_string(version) + ".deleted-" + std::to_string(getpid()));
    fs::rename(v.storage_path, gone, ec);
    fs::remove_all(gone, ec);
  }
  Notify(name);
  return OkStatus();
}

StatusOr<ModelVersionInfo> ModelRegistry::TransitionStage(const std::string& name, int64_t version,
                                                          const std::string& stage,
                                                          bool archive_existing) {
  std::string canonical = CanonicalStage(stage);
  if (canonical.empty()) {
    return InvalidArgument("stage '" + stage +
                           "' is not one of None, Staging, Production, Archived");
  }
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(LoadVersion(name, version).status());
  Transaction tx(*db_);
  RETURN_IF_ERROR(tx.Begin());
  int64_t now = clock_.NowUnixMillis();
  if (archive_existing && canonical != "None" && canonical != "Archived") {
    ASSIGN_OR_RETURN(auto arch, db_->Prepare("UPDATE model_versions SET current_stage = "
                                             "'Archived', last_updated_time = ? WHERE name = ? "
                                             "AND current_stage = ? AND version != ?"));
    arch.BindInt(1, now);
    arch.BindText(2, name);
    arch.BindText(3, canonical);
    arch.BindInt(4, version);
    RETURN_IF_ERROR(arch.Step().status());
  }
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare("UPDATE model_versions SET current_stage = ?, "
                                           "last_updated_time = ? WHERE name = ? AND version = ?"));
  stmt.BindText(1, canonical);
  stmt.BindInt(2, now);
  stmt.BindText(3, name);
  stmt.BindInt(4, version);
  RETURN_IF_ERROR(stmt.Step().status());
  RETURN_IF_ERROR(tx.Commit());
  return LoadVersion(name, version);
}

Status ModelRegistry::WriteAliasesFile(const std::string& name) {
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare("SELECT alias, version FROM registered_model_aliases "
                                           "WHERE name = ? ORDER BY alias"));
  stmt.BindText(1, name);
  std::ostringstream out;
  out << "# Written by the model registry; change aliases with `closedloop models alias`.\n";
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out << stmt.ColumnText(0) << " = " << stmt.ColumnInt(1) << "\n";
  }
  fs::path dir = fs::path(repository_) / name;
  std::error_code ec;
  fs::create_directories(dir, ec);
  fs::path tmp = dir / ".aliases.toml.tmp";
  {
    std::ofstream f(tmp, std::ios::trunc);
    f << out.str();
    if (!f) return Internal("cannot write '" + tmp.string() + "'");
  }
  fs::rename(tmp, dir / "aliases.toml", ec);  // atomic: the server never reads half a file
  if (ec) return Internal("cannot replace aliases.toml of '" + name + "': " + ec.message());
  return OkStatus();
}

Status ModelRegistry::SetAlias(const std::string& name, const std::string& alias, int64_t version) {
  RETURN_IF_ERROR(ValidateAliasName(alias));
  {
    std::lock_guard lock(mu_);
    RETURN_IF_ERROR(LoadVersion(name, version).status());
    ASSIGN_OR_RETURN(auto stmt, db_->Prepare("INSERT OR REPLACE INTO registered_model_aliases "
                                             "VALUES (?, ?, ?)"));
    stmt.BindText(1, name);
    stmt.BindText(2, alias);
    stmt.BindInt(3, version);
    RETURN_IF_ERROR(stmt.Step().status());
    RETURN_IF_ERROR(WriteAliasesFile(name));
  }
  Notify(name);
  return OkStatus();
}

Status ModelRegistry::DeleteAlias(const std::string& name, const std::string& alias) {
  {
    std::lock_guard lock(mu_);
    RETURN_IF_ERROR(RequireModel(name));
    ASSIGN_OR_RETURN(auto stmt, db_->Prepare("DELETE FROM registered_model_aliases WHERE name = ? "
                                             "AND alias = ?"));
    stmt.BindText(1, name);
    stmt.BindText(2, alias);
    RETURN_IF_ERROR(stmt.Step().status());
    if (db_->Changes() == 0) {
      return NotFound("alias '" + alias + "' of model '" + name + "' does not exist");
    }
    RETURN_IF_ERROR(WriteAliasesFile(name));
  }
  Notify(name);
  return OkStatus();
}

StatusOr<ModelVersionInfo> ModelRegistry::GetVersionByAlias(const std::string& name,
                                                            const std::string& alias) {
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(RequireModel(name));
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare("SELECT version FROM registered_model_aliases WHERE "
                                           "name = ? AND alias = ?"));
  stmt.BindText(1, name);
  stmt.BindText(2, alias);
  ASSIGN_OR_RETURN(bool found, stmt.Step());
  if (!found) return NotFound("alias '" + alias + "' of model '" + name + "' does not exist");
  return LoadVersion(name, stmt.ColumnInt(0));
}

}  // namespace closedloop
