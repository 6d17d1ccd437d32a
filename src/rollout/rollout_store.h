// RolloutStore: rollouts and every decision taken in them, with its evidence, in
// <data_dir>/rollouts.db (SQLite, WAL). A rollout row holds the current stage and
// the latest evidence; rollout_decisions is append-only (one row per advance,
// promotion or rollback). Thread safety: every method, from any thread (one
// connection behind a mutex; control plane only).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/status.h"
#include "store/sqlite_db.h"

namespace closedloop {

struct RolloutDecisionRow {
  int64_t ts_ms = 0;
  std::string stage;  // shadow | canary
  double traffic_percent = 0;
  std::string decision;  // advance | promote | rollback
  std::string reasons;   // "; "-joined
  std::string evidence_json;
};

struct RolloutRow {
  std::string id;  // ULID
  std::string model;
  int64_t champion_version = 0;
  int64_t challenger_version = 0;
  std::string state;           // shadow | canary | promoted | rolled_back
  int step = -1;               // index into canary_steps while in canary
  double traffic_percent = 0;  // share the challenger serves now
  int64_t created_ms = 0, updated_ms = 0, stage_started_ms = 0;
  std::string evidence_json = "{}";           // of the current (or last) stage
  std::vector<RolloutDecisionRow> decisions;  // filled by Get()

  bool active() const { return state == "shadow" || state == "canary"; }
};

class RolloutStore {
 public:
  static StatusOr<std::unique_ptr<RolloutStore>> Open(const std::string& path);

  // Writes the row (new or changed) and, when given, a decision, in one transaction.
  Status Save(const RolloutRow& r, const std::optional<RolloutDecisionRow>& decision);
  // Newest first; `model` empty = all.
  StatusOr<std::vector<RolloutRow>> List(const std::string& model, bool active_only, int64_t limit);
  StatusOr<RolloutRow> Get(const std::string& id);  // with its decisions, oldest first
  // Has this version of the model ever been rolled out (any outcome)?
  StatusOr<bool> Seen(const std::string& model, int64_t challenger_version);

 private:
  explicit RolloutStore(std::unique_ptr<SqliteDb> db) : db_(std::move(db)) {}
  std::mutex mu_;  // guards db_
  std::unique_ptr<SqliteDb> db_;
};

}  // namespace closedloop
