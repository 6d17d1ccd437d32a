#include "tracking/tracking_store.h"

#include "tracking/artifact_store.h"

#include <cmath>
#include <random>

#include "store/migrations.h"
#include "tracking/run_filter.h"
#include "tracking/tracking_schema.h"

namespace closedloop {
namespace {

std::string NewRunId() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  static constexpr char kHex[] = "0123456789abcdef";
  std::string id(32, '0');
  uint64_t a = rng(), b = rng();
  for (int i = 0; i < 16; ++i) {
    id[i] = kHex[(a >> (4 * i)) & 15];
    id[16 + i] = kHex[(b >> (4 * i)) & 15];
  }
  return id;
}

bool ValidStatus(const std::string& s) {
  return s == "RUNNING" || s == "SCHEDULED" || s == "FINISHED" || s == "FAILED" || s == "KILLED";
}

Status ValidKey(const std::string& what, const std::string& key) {
  if (key.empty()) return InvalidArgument(what + " key must not be empty");
  if (key.size() > 250)
    return InvalidArgument(what + " key '" + key.substr(0, 40) + "...' is longer than 250");
  return OkStatus();
}

}  // namespace

TrackingStore::TrackingStore(std::unique_ptr<SqliteDb> db, std::string artifact_root,
                             const Clock& clock)
    : db_(std::move(db)), artifact_root_(std::move(artifact_root)), clock_(clock) {}

StatusOr<std::unique_ptr<TrackingStore>> TrackingStore::Open(const std::string& path,
                                                             const std::string& artifact_root,
                                                             const Clock& clock) {
  ASSIGN_OR_RETURN(auto db, SqliteDb::Open(path, SqliteDb::Mode::kReadWrite));
  RETURN_IF_ERROR(ApplyMigrations(*db, TrackingMigrations()).WithContext("tracking store"));
  RETURN_IF_ERROR(db->Exec("PRAGMA foreign_keys = ON"));
  std::unique_ptr<TrackingStore> s(new TrackingStore(std::move(db), artifact_root, clock));
  // MLflow always has experiment 0, "Default".
  ASSIGN_OR_RETURN(auto stmt,
                   s->db_->Prepare("INSERT OR IGNORE INTO experiments VALUES (0, 'Default', ?, "
                                   "'active', ?, ?)"));
  stmt.BindText(1, artifact_root + "/0");
  stmt.BindInt(2, clock.NowUnixMillis());
  stmt.BindInt(3, clock.NowUnixMillis());
  RETURN_IF_ERROR(stmt.Step().status());
  return s;
}

StatusOr<std::unique_ptr<TrackingStore>> TrackingStore::OpenInDataDir(const std::string& data_dir,
                                                                      const Clock& clock) {
  // Artifacts are served by this server (ArtifactApi): mlflow-artifacts:/<experiment>.
  return Open(data_dir + "/tracking.db", std::string(kArtifactScheme), clock);
}

StatusOr<std::string> TrackingStore::CreateExperiment(const std::string& name,
                                                      const std::string& artifact_location,
                                                      const KeyValues& tags) {
  if (name.empty()) return InvalidArgument("'name' must not be empty");
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto exists, db_->Prepare("SELECT 1 FROM experiments WHERE name = ?"));
  exists.BindText(1, name);
  ASSIGN_OR_RETURN(bool found, exists.Step());
  if (found) return AlreadyExists("experiment '" + name + "' already exists");
  RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE"));
  auto fail = [this](Status s) {
    (void)db_->Exec("ROLLBACK");
    return s;
  };
  auto insert = db_->Prepare(
      "INSERT INTO experiments (name, artifact_location, creation_time, last_update_time) "
      "VALUES (?, '', ?, ?)");
  if (!insert.ok()) return fail(insert.status());
  int64_t now = clock_.NowUnixMillis();
  insert->BindText(1, name);
  insert->BindInt(2, now);
  insert->BindInt(3, now);
  if (auto st = insert->Step(); !st.ok()) return fail(st.status());
  std::string id = std::to_string(db_->LastInsertRowId());
  auto loc = db_->Prepare("UPDATE experiments SET artifact_location = ? WHERE experiment_id = ?");
  if (!loc.ok()) return fail(loc.status());
  loc->BindText(1, artifact_location.empty() ? artifact_root_ + "/" + id : artifact_location);
  loc->BindText(2, id);
  if (auto st = loc->Step(); !st.ok()) return fail(st.status());
  for (const auto& [k, v] : tags) {
    auto tag = db_->Prepare("INSERT OR REPLACE INTO experiment_tags VALUES (?, ?, ?)");
    if (!tag.ok()) return fail(tag.status());
    tag->BindText(1, id);
    tag->BindText(2, k);
    tag->BindText(3, v);
    if (auto st = tag->Step(); !st.ok()) return fail(st.status());
  }
  RETURN_IF_ERROR(db_->Exec("COMMIT"));
  return id;
}

namespace {

StatusOr<Experiment> ReadExperiment(SqliteDb& db, SqliteStatement& stmt) {
  Experiment e;
  e.experiment_id = std::to_string(stmt.ColumnInt(0));
  e.name = stmt.ColumnText(1);
  e.artifact_location = stmt.ColumnText(2);
  e.lifecycle_stage = stmt.ColumnText(3);
  e.creation_time = stmt.ColumnInt(4);
  e.last_update_time = stmt.ColumnInt(5);
  ASSIGN_OR_RETURN(auto tags, db.Prepare("SELECT key, value FROM experiment_tags WHERE "
                                         "experiment_id = ? ORDER BY key"));
  tags.BindText(1, e.experiment_id);
  for (;;) {
    ASSIGN_OR_RETURN(bool row, tags.Step());
    if (!row) break;
    e.tags.emplace_back(tags.ColumnText(0), tags.ColumnText(1));
  }
  return e;
}

constexpr const char* kExperimentColumns =
    "SELECT experiment_id, name, artifact_location, lifecycle_stage, creation_time, "
    "last_update_time FROM experiments ";

}  // namespace

StatusOr<Experiment> TrackingStore::GetExperiment(const std::string& experiment_id) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare(std::string(kExperimentColumns) +
                                           "WHERE CAST(experiment_id AS TEXT) = ?"));
  stmt.BindText(1, experiment_id);
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return NotFound("no experiment with id '" + experiment_id + "'");
  return ReadExperiment(*db_, stmt);
}

StatusOr<Experiment> TrackingStore::GetExperimentByName(const std::string& name) {
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare(std::string(kExperimentColumns) + "WHERE name = ?"));
  stmt.BindText(1, name);
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return NotFound("no experiment named '" + name + "'");
  return ReadExperiment(*db_, stmt);
}

StatusOr<std::vector<Experiment>> TrackingStore::SearchExperiments(const std::string& filter,
                                                                   int64_t max_results) {
  std::string op, value;
  if (!filter.empty()) {
    std::string f = filter;
    size_t q1 = f.find_first_of("'\""), q2 = f.find_last_of("'\"");
    std::string head = f.substr(0, q1 == std::string::npos ? f.size() : q1);
    std::string lower;
    for (char c : head) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (q1 == std::string::npos || q2 <= q1 || lower.find("name") == std::string::npos) {
      return InvalidArgument("filter '" + filter +
                             "': supported forms are name = 'x' and name LIKE 'x%'");
    }
    op = lower.find("ilike") != std::string::npos  ? "ILIKE"
         : lower.find("like") != std::string::npos ? "LIKE"
         : lower.find("!=") != std::string::npos   ? "!="
                                                   : "=";
    value = f.substr(q1 + 1, q2 - q1 - 1);
  }
  std::lock_guard lock(mu_);
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare(std::string(kExperimentColumns) +
                                           "WHERE lifecycle_stage = 'active' ORDER BY "
                                           "experiment_id"));
  std::vector<Experiment> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    std::string name = stmt.ColumnText(1);
    bool keep = op.empty() || (op == "=" && name == value) || (op == "!=" && name != value) ||
                ((op == "LIKE" || op == "ILIKE") && LikeMatch(name, value, op == "ILIKE"));
    if (!keep) continue;
    ASSIGN_OR_RETURN(Experiment e, ReadExperiment(*db_, stmt));
    out.push_back(std::move(e));
    if (max_results > 0 && static_cast<int64_t>(out.size()) >= max_results) break;
  }
  return out;
}

StatusOr<RunInfo> TrackingStore::LoadRunInfo(const std::string& run_id) {
  ASSIGN_OR_RETURN(auto stmt,
                   db_->Prepare("SELECT run_id, run_name, experiment_id, user_id, status, "
                                "start_time, end_time, artifact_uri, lifecycle_stage FROM runs "
                                "WHERE run_id = ?"));
  stmt.BindText(1, run_id);
  ASSIGN_OR_RETURN(bool row, stmt.Step());
  if (!row) return NotFound("no run with id '" + run_id + "'");
  RunInfo r;
  r.run_id = stmt.ColumnText(0);
  r.run_name = stmt.ColumnText(1);
  r.experiment_id = std::to_string(stmt.ColumnInt(2));
  r.user_id = stmt.ColumnText(3);
  r.status = stmt.ColumnText(4);
  r.start_time = stmt.ColumnInt(5);
  if (auto end = stmt.ColumnTextOrNull(6)) r.end_time = std::stoll(*end);
  r.artifact_uri = stmt.ColumnText(7);
  r.lifecycle_stage = stmt.ColumnText(8);
  return r;
}

StatusOr<Run> TrackingStore::LoadRun(const std::string& run_id) {
  Run run;
  ASSIGN_OR_RETURN(run.info, LoadRunInfo(run_id));
  for (const char* table : {"params", "tags"}) {
    ASSIGN_OR_RETURN(auto stmt, db_->Prepare(std::string("SELECT key, value FROM ") + table +
                                             " WHERE run_id = ? ORDER BY key"));
    stmt.BindText(1, run_id);
    for (;;) {
      ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      (std::string(table) == "params" ? run.params : run.tags)
          .emplace_back(stmt.ColumnText(0), stmt.ColumnText(1));
    }
  }
  // The current value per key: highest step, then latest timestamp, then largest value.
  ASSIGN_OR_RETURN(auto m,
                   db_->Prepare("SELECT key, value, is_nan, timestamp, step FROM metrics m WHERE "
                                "run_id = ?1 AND rowid = (SELECT rowid FROM metrics WHERE run_id = "
                                "?1 AND key = m.key ORDER BY step DESC, timestamp DESC, value DESC "
                                "LIMIT 1) ORDER BY key"));
  m.BindText(1, run_id);
  for (;;) {
    ASSIGN_OR_RETURN(bool row, m.Step());
    if (!row) break;
    run.metrics.push_back({m.ColumnText(0), m.ColumnInt(2) ? std::nan("") : m.ColumnDouble(1),
                           m.ColumnInt(3), m.ColumnInt(4)});
  }
  return run;
}

StatusOr<RunInfo> TrackingStore::CreateRun(const std::string& experiment_id,
                                           const std::string& run_name, const std::string& user_id,
                                           std::optional<int64_t> start_time,
                                           const KeyValues& tags) {
  ASSIGN_OR_RETURN(Experiment e, GetExperiment(experiment_id.empty() ? "0" : experiment_id));
  if (e.lifecycle_stage != "active") {
    return InvalidArgument("experiment '" + e.experiment_id + "' is deleted");
  }
  std::lock_guard lock(mu_);
  std::string id = NewRunId();
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare("INSERT INTO runs (run_id, experiment_id, run_name, "
                                           "user_id, status, start_time, artifact_uri) VALUES "
                                           "(?, ?, ?, ?, 'RUNNING', ?, ?)"));
  stmt.BindText(1, id);
  stmt.BindText(2, e.experiment_id);
  stmt.BindText(3, run_name.empty() ? "run-" + id.substr(0, 8) : run_name);
  stmt.BindText(4, user_id);
  stmt.BindInt(5, start_time.value_or(clock_.NowUnixMillis()));
  stmt.BindText(6, e.artifact_location + "/" + id + "/artifacts");
  RETURN_IF_ERROR(stmt.Step().status());
  for (const auto& [k, v] : tags) {
    RETURN_IF_ERROR(ValidKey("tag", k));
    ASSIGN_OR_RETURN(auto t, db_->Prepare("INSERT OR REPLACE INTO tags VALUES (?, ?, ?)"));
    t.BindText(1, id);
    t.BindText(2, k);
    t.BindText(3, v);
    RETURN_IF_ERROR(t.Step().status());
  }
  return LoadRunInfo(id);
}

Status TrackingStore::RequireActiveRun(const std::string& run_id) {
  ASSIGN_OR_RETURN(RunInfo info, LoadRunInfo(run_id));
  if (info.lifecycle_stage != "active") {
    return InvalidArgument("run '" + run_id + "' is deleted; it cannot be changed");
  }
  return OkStatus();
}

StatusOr<RunInfo> TrackingStore::UpdateRun(const std::string& run_id,
                                           const std::optional<std::string>& status,
                                           std::optional<int64_t> end_time,
                                           const std::optional<std::string>& run_name) {
  if (status && !ValidStatus(*status)) {
    return InvalidArgument("'status' must be RUNNING, SCHEDULED, FINISHED, FAILED or KILLED");
  }
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(RequireActiveRun(run_id));
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare("UPDATE runs SET status = COALESCE(?, status), "
                                           "end_time = COALESCE(?, end_time), run_name = "
                                           "COALESCE(?, run_name) WHERE run_id = ?"));
  if (status) stmt.BindText(1, *status);
  if (end_time) stmt.BindInt(2, *end_time);
  if (run_name) stmt.BindText(3, *run_name);
  stmt.BindText(4, run_id);
  RETURN_IF_ERROR(stmt.Step().status());
  return LoadRunInfo(run_id);
}

StatusOr<Run> TrackingStore::GetRun(const std::string& run_id) {
  std::lock_guard lock(mu_);
  return LoadRun(run_id);
}

Status TrackingStore::DeleteRun(const std::string& run_id) {
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(LoadRunInfo(run_id).status());
  ASSIGN_OR_RETURN(auto stmt,
                   db_->Prepare("UPDATE runs SET lifecycle_stage = 'deleted' WHERE run_id = ?"));
  stmt.BindText(1, run_id);
  return stmt.Step().status();
}

Status TrackingStore::LogBatch(const std::string& run_id, const std::vector<Metric>& metrics,
                               const KeyValues& params, const KeyValues& tags) {
  for (const auto& m : metrics) RETURN_IF_ERROR(ValidKey("metric", m.key));
  for (const auto& [k, v] : params) {
    RETURN_IF_ERROR(ValidKey("param", k));
    if (v.size() > 6000) return InvalidArgument("param '" + k + "' value is longer than 6000");
  }
  for (const auto& [k, v] : tags) RETURN_IF_ERROR(ValidKey("tag", k));
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(RequireActiveRun(run_id));
  RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE"));
  Status s = [&]() -> Status {
    ASSIGN_OR_RETURN(auto existing,
                     db_->Prepare("SELECT value FROM params WHERE run_id = ? AND key = ?"));
    ASSIGN_OR_RETURN(auto param, db_->Prepare("INSERT OR IGNORE INTO params VALUES (?, ?, ?)"));
    for (const auto& [k, v] : params) {
      (void)existing.Reset();
      existing.BindText(1, run_id);
      existing.BindText(2, k);
      ASSIGN_OR_RETURN(bool found, existing.Step());
      if (found && existing.ColumnText(0) != v) {
        return InvalidArgument("param '" + k + "' was already logged with value '" +
                               existing.ColumnText(0) + "'; params cannot change (got '" + v +
                               "')");
      }
      (void)param.Reset();
      param.BindText(1, run_id);
      param.BindText(2, k);
      param.BindText(3, v);
      RETURN_IF_ERROR(param.Step().status());
    }
    ASSIGN_OR_RETURN(auto metric, db_->Prepare("INSERT INTO metrics VALUES (?, ?, ?, ?, ?, ?)"));
    for (const auto& m : metrics) {
      (void)metric.Reset();
      metric.BindText(1, run_id);
      metric.BindText(2, m.key);
      metric.BindInt(3, m.step);
      metric.BindInt(4, m.timestamp);
      bool nan = std::isnan(m.value);
      if (nan) {
        metric.BindNull(5);
      } else {
        metric.BindDouble(5, m.value);
      }
      metric.BindInt(6, nan ? 1 : 0);
      RETURN_IF_ERROR(metric.Step().status());
    }
    ASSIGN_OR_RETURN(auto tag, db_->Prepare("INSERT OR REPLACE INTO tags VALUES (?, ?, ?)"));
    for (const auto& [k, v] : tags) {
      (void)tag.Reset();
      tag.BindText(1, run_id);
      tag.BindText(2, k);
      tag.BindText(3, v);
      RETURN_IF_ERROR(tag.Step().status());
    }
    return OkStatus();
  }();
  if (!s.ok()) {
    (void)db_->Exec("ROLLBACK");
    return s;
  }
  return db_->Exec("COMMIT");
}

StatusOr<std::vector<Metric>> TrackingStore::MetricHistory(const std::string& run_id,
                                                           const std::string& key) {
  std::lock_guard lock(mu_);
  RETURN_IF_ERROR(LoadRunInfo(run_id).status());
  ASSIGN_OR_RETURN(auto stmt, db_->Prepare("SELECT value, is_nan, timestamp, step FROM metrics "
                                           "WHERE run_id = ? AND key = ? ORDER BY step, "
                                           "timestamp, rowid"));
  stmt.BindText(1, run_id);
  stmt.BindText(2, key);
  std::vector<Metric> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, stmt.Step());
    if (!row) break;
    out.push_back({key, stmt.ColumnInt(1) ? std::nan("") : stmt.ColumnDouble(0), stmt.ColumnInt(2),
                   stmt.ColumnInt(3)});
  }
  return out;
}

StatusOr<std::vector<Run>> TrackingStore::SearchRuns(const std::vector<std::string>& experiment_ids,
                                                     const std::string& filter,
                                                     const std::vector<std::string>& order_by,
                                                     int64_t max_results) {
  ASSIGN_OR_RETURN(auto clauses, ParseRunFilter(filter));
  std::lock_guard lock(mu_);
  std::vector<Run> runs;
  for (const std::string& eid : experiment_ids) {
    ASSIGN_OR_RETURN(auto stmt, db_->Prepare("SELECT run_id FROM runs WHERE CAST(experiment_id "
                                             "AS TEXT) = ? AND lifecycle_stage = 'active'"));
    stmt.BindText(1, eid);
    std::vector<std::string> ids;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, stmt.Step());
      if (!row) break;
      ids.push_back(stmt.ColumnText(0));
    }
    for (const auto& id : ids) {
      ASSIGN_OR_RETURN(Run r, LoadRun(id));
      if (RunMatches(r, clauses)) runs.push_back(std::move(r));
    }
  }
  RETURN_IF_ERROR(SortRuns(runs, order_by));
  if (max_results > 0 && static_cast<int64_t>(runs.size()) > max_results) runs.resize(max_results);
  return runs;
}

}  // namespace closedloop
