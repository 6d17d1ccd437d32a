// Schema migrations for the SQLite stores. Each database file has its own list;
// each migration has a version and runs once, inside a transaction, in order; the
// applied version lives in PRAGMA user_version. Append migrations; never edit a
// released one.
#pragma once

#include <vector>

#include "store/sqlite_db.h"

namespace closedloop {

struct Migration {
  int version;
  const char* sql;
};

Status ApplyMigrations(SqliteDb& db, const std::vector<Migration>& migrations);

// The prediction log's schema (predictions.db).
const std::vector<Migration>& PredictionLogMigrations();

}  // namespace closedloop
