#include "store/migrations.h"

#include <string>
#include <vector>

namespace closedloop {
const std::vector<Migration>& PredictionLogMigrations() {
  // predictions is WITHOUT ROWID: one B-tree keyed by request_id. Request ids are
  // ULIDs, so they sort by time and a time range is a key range: no second index
  // to maintain on the write path.
  static const std::vector<Migration> kMigrations = {
      {1, R"sql(
        CREATE TABLE predictions (
          request_id   TEXT PRIMARY KEY,
          ts_ms        INTEGER NOT NULL,
          model        TEXT NOT NULL,
          version      TEXT NOT NULL,
          input_sha256 TEXT NOT NULL,
          input_text   TEXT,
          label        TEXT NOT NULL,
          confidence   REAL NOT NULL,
          top_k        TEXT NOT NULL,
          latency_ms   REAL NOT NULL
        ) WITHOUT ROWID;
      )sql"},
      {2, R"sql(
        CREATE TABLE feedback (
          feedback_id       TEXT PRIMARY KEY,
          request_id        TEXT NOT NULL,
          ts_ms             INTEGER NOT NULL,
          rating            INTEGER,
          comment           TEXT,
          nps               INTEGER,
          label             TEXT,
          click             INTEGER,
          dwell_ms          INTEGER,
          scroll_depth      REAL,
          idempotency_key   TEXT UNIQUE,
          comment_sentiment REAL,
          implicit_score    REAL,
          explicit_score    REAL
        ) WITHOUT ROWID;
        CREATE INDEX feedback_by_request ON feedback(request_id);
        CREATE INDEX feedback_by_time ON feedback(ts_ms);
      )sql"},
      {3, R"sql(
        CREATE TABLE escalations (
          request_id   TEXT PRIMARY KEY,
          ts_ms        INTEGER NOT NULL,
          customer_id  TEXT,
          text         TEXT NOT NULL,
          intent       TEXT NOT NULL,
          confidence   REAL NOT NULL,
          sentiment    REAL,
          reasons      TEXT NOT NULL,
          status       TEXT NOT NULL DEFAULT 'open',
          human_label  TEXT,
          human_reply  TEXT,
          resolved_ms  INTEGER
        ) WITHOUT ROWID;
        CREATE INDEX escalations_by_status ON escalations(status, ts_ms);
      )sql"},
      {4, R"sql(
        ALTER TABLE predictions ADD COLUMN action TEXT;
        ALTER TABLE predictions ADD COLUMN propensity REAL;
      )sql"},
      // Labeling (learn/annotation_store.h): the tasks people are asked to label and
      // their answers, beside the predictions they are about.
      {5, R"sql(
        CREATE TABLE labeling_tasks (
          task_id     TEXT PRIMARY KEY,
          model       TEXT NOT NULL,
          request_id  TEXT,
          text        TEXT NOT NULL,
          created_ms  INTEGER NOT NULL,
          strategy    TEXT NOT NULL,
          score       REAL NOT NULL,
          propensity  REAL NOT NULL,
          suggestions TEXT NOT NULL,
          predicted   TEXT,
          gold_label  TEXT,
          overlap     INTEGER NOT NULL,
          hard        INTEGER NOT NULL DEFAULT 0,
          status      TEXT NOT NULL DEFAULT 'open',
          final_label TEXT,
          done_ms     INTEGER
        ) WITHOUT ROWID;
        CREATE INDEX labeling_tasks_by_model ON labeling_tasks(model, status, created_ms);
        CREATE UNIQUE INDEX labeling_tasks_by_request ON labeling_tasks(request_id)
          WHERE request_id IS NOT NULL;
        CREATE TABLE annotations (
          task_id       TEXT NOT NULL,
          annotator     TEXT NOT NULL,
          annotation_id TEXT NOT NULL UNIQUE,
          answer        TEXT NOT NULL,
          label         TEXT,
          ts_ms         INTEGER NOT NULL,
          duration_ms   INTEGER,
          source        TEXT NOT NULL,
          PRIMARY KEY (task_id, annotator)
        ) WITHOUT ROWID;
        CREATE INDEX annotations_by_time ON annotations(ts_ms);
      )sql"},
  };
  return kMigrations;
}

Status ApplyMigrations(SqliteDb& db, const std::vector<Migration>& migrations) {
  const int latest = migrations.back().version;
  ASSIGN_OR_RETURN(auto stmt, db.Prepare("PRAGMA user_version"));
  ASSIGN_OR_RETURN(bool has_row, stmt.Step());
  int current = has_row ? static_cast<int>(stmt.ColumnInt(0)) : 0;
  if (current > latest) {
    return FailedPrecondition("database schema version " + std::to_string(current) +
                              " is newer than this binary supports (" + std::to_string(latest) +
                              ")");
  }
  for (const Migration& m : migrations) {
    if (m.version <= current) continue;
    RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
    Status s = db.Exec(m.sql);
    if (s.ok()) s = db.Exec("PRAGMA user_version = " + std::to_string(m.version));
    if (!s.ok()) {
      (void)db.Exec("ROLLBACK");
      return s.WithContext("migration " + std::to_string(m.version));
    }
    RETURN_IF_ERROR(db.Exec("COMMIT"));
  }
  return OkStatus();
}

}  // namespace closedloop
