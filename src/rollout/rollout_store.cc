#include "rollout/rollout_store.h"

#include "store/migrations.h"

namespace closedloop {

namespace {

const std::vector<Migration>& RolloutMigrations() {
  static const std::vector<Migration> kMigrations = {
      {1, R"sql(
        CREATE TABLE rollouts (
          id                 TEXT PRIMARY KEY,
          model              TEXT NOT NULL,
          champion_version   INTEGER NOT NULL,
          challenger_version INTEGER NOT NULL,
          state              TEXT NOT NULL,
          step               INTEGER NOT NULL,
          traffic_percent    REAL NOT NULL,
          created_ms         INTEGER NOT NULL,
          updated_ms         INTEGER NOT NULL,
          stage_started_ms   INTEGER NOT NULL,
          evidence           TEXT NOT NULL
        );
        CREATE INDEX rollouts_by_model ON rollouts(model, challenger_version);
        CREATE TABLE rollout_decisions (
          seq             INTEGER PRIMARY KEY AUTOINCREMENT,
          rollout_id      TEXT NOT NULL REFERENCES rollouts(id),
          ts_ms           INTEGER NOT NULL,
          stage           TEXT NOT NULL,
          traffic_percent REAL NOT NULL,
          decision        TEXT NOT NULL,
          reasons         TEXT NOT NULL,
          evidence        TEXT NOT NULL
        );
        CREATE INDEX rollout_decisions_by_rollout ON rollout_decisions(rollout_id, seq);
      )sql"},
  };
  return kMigrations;
}

constexpr const char* kColumns =
    "SELECT id, model, champion_version, challenger_version, state, step, traffic_percent, "
    "created_ms, updated_ms, stage_started_ms, evidence FROM rollouts ";

RolloutRow ReadRow(SqliteStatement& q) {
  RolloutRow r;
  r.id = q.ColumnText(0);
  r.model = q.ColumnText(1);
  r.champion_version = q.ColumnInt(2);
  r.challenger_version = q.ColumnInt(3);
  r.state = q.ColumnText(4);
  r.step = static_cast<int>(q.ColumnInt(5));
  r.traffic_percent = q.ColumnDouble(6);
  r.created_ms = q.ColumnInt(7);
  r.updated_ms = q.ColumnInt(8);
  r.stage_started_ms = q.ColumnInt(9);
  r.evidence_json = q.ColumnText(10);
  return r;
}

}  // namespace

StatusOr<std::unique_ptr<RolloutStore>> RolloutStore::Open(const std::string& path) {
  ASSIGN_OR_RETURN(auto db, SqliteDb::Open(path, SqliteDb::Mode::kReadWrite));
  RETURN_IF_ERROR(ApplyMigrations(*db, RolloutMigrations()).WithContext("rollouts '" + path + "'"));
  return std::unique_ptr<RolloutStore>(new RolloutStore(std::move(db)));
}

Status RolloutStore::Save(const RolloutRow& r, const std::optional<RolloutDecisionRow>& d) {
  std::lock_guard<std::mutex> lock(mu_);
  RETURN_IF_ERROR(db_->Exec("BEGIN IMMEDIATE"));
  auto write = [&]() -> Status {
    ASSIGN_OR_RETURN(auto q, db_->Prepare("INSERT OR REPLACE INTO rollouts VALUES "
                                          "(?,?,?,?,?,?,?,?,?,?,?)"));
    q.BindText(1, r.id);
    q.BindText(2, r.model);
    q.BindInt(3, r.champion_version);
    q.BindInt(4, r.challenger_version);
    q.BindText(5, r.state);
    q.BindInt(6, r.step);
    q.BindDouble(7, r.traffic_percent);
    q.BindInt(8, r.created_ms);
    q.BindInt(9, r.updated_ms);
    q.BindInt(10, r.stage_started_ms);
    q.BindText(11, r.evidence_json);
    RETURN_IF_ERROR(q.Step().status());
    if (!d) return OkStatus();
    ASSIGN_OR_RETURN(auto ins, db_->Prepare("INSERT INTO rollout_decisions (rollout_id, ts_ms, "
                                            "stage, traffic_percent, decision, reasons, evidence) "
                                            "VALUES (?,?,?,?,?,?,?)"));
    ins.BindText(1, r.id);
    ins.BindInt(2, d->ts_ms);
    ins.BindText(3, d->stage);
    ins.BindDouble(4, d->traffic_percent);
    ins.BindText(5, d->decision);
    ins.BindText(6, d->reasons);
    ins.BindText(7, d->evidence_json);
    return ins.Step().status();
  };
  Status s = write();
  if (!s.ok()) {
    (void)db_->Exec("ROLLBACK");
    return s;
  }
  return db_->Exec("COMMIT");
}

StatusOr<std::vector<RolloutRow>> RolloutStore::List(const std::string& model, bool active_only,
                                                     int64_t limit) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto q,
                   db_->Prepare(std::string(kColumns) +
                                "WHERE (? = '' OR model = ?) AND (? = 0 OR state IN ('shadow', "
                                "'canary')) ORDER BY id DESC LIMIT ?"));
  q.BindText(1, model);
  q.BindText(2, model);
  q.BindInt(3, active_only ? 1 : 0);
  q.BindInt(4, limit);
  std::vector<RolloutRow> out;
  for (;;) {
    ASSIGN_OR_RETURN(bool row, q.Step());
    if (!row) break;
    out.push_back(ReadRow(q));
  }
  return out;
}

StatusOr<RolloutRow> RolloutStore::Get(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto q, db_->Prepare(std::string(kColumns) + "WHERE id = ?"));
  q.BindText(1, id);
  ASSIGN_OR_RETURN(bool found, q.Step());
  if (!found) return NotFound("no rollout '" + id + "'");
  RolloutRow r = ReadRow(q);
  ASSIGN_OR_RETURN(auto d, db_->Prepare("SELECT ts_ms, stage, traffic_percent, decision, reasons, "
                                        "evidence FROM rollout_decisions WHERE rollout_id = ? "
                                        "ORDER BY seq"));
  d.BindText(1, id);
  for (;;) {
    ASSIGN_OR_RETURN(bool row, d.Step());
    if (!row) break;
    r.decisions.push_back({d.ColumnInt(0), d.ColumnText(1), d.ColumnDouble(2), d.ColumnText(3),
                           d.ColumnText(4), d.ColumnText(5)});
  }
  return r;
}

StatusOr<bool> RolloutStore::Seen(const std::string& model, int64_t challenger_version) {
  std::lock_guard<std::mutex> lock(mu_);
  ASSIGN_OR_RETURN(auto q, db_->Prepare("SELECT 1 FROM rollouts WHERE model = ? AND "
                                        "challenger_version = ? LIMIT 1"));
  q.BindText(1, model);
  q.BindInt(2, challenger_version);
  return q.Step();
}

}  // namespace closedloop
