// Schema migrations for the SQLite store. Each migration has a version and runs
// once, inside a transaction, in order; the applied version lives in
// PRAGMA user_version. Later components append migrations; never edit a
// released one.
#pragma once

#include "store/sqlite_db.h"

namespace closedloop {

Status ApplyMigrations(SqliteDb& db);
// The version that ApplyMigrations brings a database to.
int LatestSchemaVersion();

}  // namespace closedloop
