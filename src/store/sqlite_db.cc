#include "store/sqlite_db.h"

#include <sqlite3.h>

namespace closedloop {

SqliteStatement::~SqliteStatement() {
  if (stmt_ != nullptr) sqlite3_finalize(stmt_);
}

void SqliteStatement::BindText(int i, std::string_view v) {
  sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
}
void SqliteStatement::BindTextNoCopy(int i, std::string_view v) {
  sqlite3_bind_text(stmt_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
}
void SqliteStatement::BindInt(int i, int64_t v) { sqlite3_bind_int64(stmt_, i, v); }
void SqliteStatement::BindDouble(int i, double v) { sqlite3_bind_double(stmt_, i, v); }
void SqliteStatement::BindNull(int i) { sqlite3_bind_null(stmt_, i); }

StatusOr<bool> SqliteStatement::Step() {
  int rc = sqlite3_step(stmt_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return Internal(std::string("sqlite step: ") + sqlite3_errmsg(sqlite3_db_handle(stmt_)));
}

Status SqliteStatement::Reset() {
  sqlite3_reset(stmt_);
  sqlite3_clear_bindings(stmt_);
  return OkStatus();
}

std::string SqliteStatement::ColumnText(int i) const {
  const auto* p = sqlite3_column_text(stmt_, i);
  int n = sqlite3_column_bytes(stmt_, i);
  return p ? std::string(reinterpret_cast<const char*>(p), static_cast<size_t>(n)) : std::string();
}

std::optional<std::string> SqliteStatement::ColumnTextOrNull(int i) const {
  if (sqlite3_column_type(stmt_, i) == SQLITE_NULL) return std::nullopt;
  return ColumnText(i);
}

int64_t SqliteStatement::ColumnInt(int i) const { return sqlite3_column_int64(stmt_, i); }
double SqliteStatement::ColumnDouble(int i) const { return sqlite3_column_double(stmt_, i); }

StatusOr<std::unique_ptr<SqliteDb>> SqliteDb::Open(const std::string& path, Mode mode) {
  // Once per process, before SQLite initializes: without memory-status accounting
  // SQLite's allocator takes no global mutex (measured ~20% on the log writer).
  static const bool configured = [] {
    sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
    return true;
  }();
  (void)configured;
  sqlite3* db = nullptr;
  int flags =
      mode == Mode::kReadOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
  flags |= SQLITE_OPEN_NOMUTEX;  // each connection is used by one thread at a time
  int rc = sqlite3_open_v2(path.c_str(), &db, flags, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Unavailable("cannot open SQLite database '" + path + "': " + msg);
  }
  std::unique_ptr<SqliteDb> out(new SqliteDb(db));
  sqlite3_busy_timeout(db, 5000);
  if (mode == Mode::kReadWrite) {
    RETURN_IF_ERROR(out->Exec("PRAGMA journal_mode=WAL"));
    RETURN_IF_ERROR(out->Exec("PRAGMA synchronous=NORMAL"));
  }
  return out;
}

SqliteDb::~SqliteDb() { sqlite3_close_v2(db_); }

int64_t SqliteDb::Changes() const { return sqlite3_changes(db_); }

int64_t SqliteDb::LastInsertRowId() const { return sqlite3_last_insert_rowid(db_); }

std::string SqliteDb::ErrorMessage() const { return sqlite3_errmsg(db_); }

Status SqliteDb::Exec(std::string_view sql) {
  char* err = nullptr;
  int rc = sqlite3_exec(db_, std::string(sql).c_str(), nullptr, nullptr, &err);
  if (rc != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    return Internal("sqlite: " + msg + " (in: " + std::string(sql.substr(0, 80)) + ")");
  }
  return OkStatus();
}

StatusOr<SqliteStatement> SqliteDb::Prepare(std::string_view sql) {
  sqlite3_stmt* stmt = nullptr;
  int rc = sqlite3_prepare_v2(db_, sql.data(), static_cast<int>(sql.size()), &stmt, nullptr);
  if (rc != SQLITE_OK) return Internal("sqlite prepare: " + ErrorMessage());
  return SqliteStatement(stmt);
}

}  // namespace closedloop
