#include "tracking/tracking_schema.h"

namespace closedloop {

const std::vector<Migration>& TrackingMigrations() {
  static const std::vector<Migration> kMigrations = {
      {1, R"sql(
        CREATE TABLE experiments (
          experiment_id     INTEGER PRIMARY KEY,
          name              TEXT NOT NULL UNIQUE,
          artifact_location TEXT NOT NULL,
          lifecycle_stage   TEXT NOT NULL DEFAULT 'active',
          creation_time     INTEGER NOT NULL,
          last_update_time  INTEGER NOT NULL
        );
        CREATE TABLE experiment_tags (
          experiment_id INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
          PRIMARY KEY (experiment_id, key)
        ) WITHOUT ROWID;
        CREATE TABLE runs (
          run_id          TEXT PRIMARY KEY,
          experiment_id   INTEGER NOT NULL REFERENCES experiments(experiment_id),
          run_name        TEXT NOT NULL,
          user_id         TEXT NOT NULL,
          status          TEXT NOT NULL,
          start_time      INTEGER NOT NULL,
          end_time        INTEGER,
          lifecycle_stage TEXT NOT NULL DEFAULT 'active',
          artifact_uri    TEXT NOT NULL
        ) WITHOUT ROWID;
        CREATE INDEX runs_by_experiment ON runs(experiment_id, start_time);
        CREATE TABLE params (
          run_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_id, key)
        ) WITHOUT ROWID;
        CREATE TABLE tags (
          run_id TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (run_id, key)
        ) WITHOUT ROWID;
        CREATE TABLE metrics (
          run_id TEXT NOT NULL, key TEXT NOT NULL, step INTEGER NOT NULL,
          timestamp INTEGER NOT NULL, value REAL, is_nan INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX metrics_by_run_key ON metrics(run_id, key, step, timestamp);
      )sql"},
      {2, R"sql(
        CREATE TABLE registered_models (
          name               TEXT PRIMARY KEY,
          creation_time      INTEGER NOT NULL,
          last_updated_time  INTEGER NOT NULL,
          description        TEXT NOT NULL DEFAULT ''
        ) WITHOUT ROWID;
        CREATE TABLE registered_model_tags (
          name TEXT NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (name, key)
        ) WITHOUT ROWID;
        CREATE TABLE model_versions (
          name              TEXT NOT NULL,
          version           INTEGER NOT NULL,
          creation_time     INTEGER NOT NULL,
          last_updated_time INTEGER NOT NULL,
          description       TEXT NOT NULL DEFAULT '',
          user_id           TEXT NOT NULL DEFAULT '',
          current_stage     TEXT NOT NULL DEFAULT 'None',
          source            TEXT NOT NULL,
          storage_path      TEXT NOT NULL,
          run_id            TEXT NOT NULL DEFAULT '',
          status            TEXT NOT NULL DEFAULT 'READY',
          flavor            TEXT NOT NULL,
          model_sha256      TEXT NOT NULL,
          model_size        INTEGER NOT NULL,
          metrics_json      TEXT NOT NULL DEFAULT '{}',
          model_card        TEXT NOT NULL DEFAULT '',
          PRIMARY KEY (name, version)
        ) WITHOUT ROWID;
        CREATE TABLE model_version_tags (
          name TEXT NOT NULL, version INTEGER NOT NULL, key TEXT NOT NULL, value TEXT NOT NULL,
          PRIMARY KEY (name, version, key)
        ) WITHOUT ROWID;
        CREATE TABLE registered_model_aliases (
          name TEXT NOT NULL, alias TEXT NOT NULL, version INTEGER NOT NULL,
          PRIMARY KEY (name, alias)
        ) WITHOUT ROWID;
      )sql"},
  };
  return kMigrations;
}

}  // namespace closedloop
