// Thin RAII wrappers over the SQLite C API that report errors as Status.
//
// Thread safety: a SqliteDb connection and its statements belong to one thread at
// a time (SQLite is built serialized, but we never share a connection on a hot
// path). Open one connection per writer/reader.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

struct sqlite3;
struct sqlite3_stmt;

namespace closedloop {

class SqliteStatement {
 public:
  explicit SqliteStatement(sqlite3_stmt* stmt) : stmt_(stmt) {}
  ~SqliteStatement();
  SqliteStatement(SqliteStatement&& o) noexcept : stmt_(o.stmt_) { o.stmt_ = nullptr; }
  SqliteStatement(const SqliteStatement&) = delete;
  SqliteStatement& operator=(const SqliteStatement&) = delete;

  // Parameters are 1-based. Text is copied (SQLITE_TRANSIENT).
  void BindText(int i, std::string_view v);
  // Text is not copied: `v` must stay valid until the next Step() or Reset().
  void BindTextNoCopy(int i, std::string_view v);
  void BindInt(int i, int64_t v);
  void BindDouble(int i, double v);
  void BindNull(int i);
  // Returns true when a row is available, false when done.
  StatusOr<bool> Step();
  Status Reset();  // reset + clear bindings for reuse

  std::string ColumnText(int i) const;
  std::optional<std::string> ColumnTextOrNull(int i) const;
  int64_t ColumnInt(int i) const;
  double ColumnDouble(int i) const;

 private:
  sqlite3_stmt* stmt_;
};

class SqliteDb {
 public:
  enum class Mode { kReadWrite, kReadOnly };
  // Opens (creating when read-write) the file, sets a busy timeout, and for
  // read-write enables WAL with synchronous=NORMAL (durable across process crashes).
  static StatusOr<std::unique_ptr<SqliteDb>> Open(const std::string& path, Mode mode);
  ~SqliteDb();

  Status Exec(std::string_view sql);
  StatusOr<SqliteStatement> Prepare(std::string_view sql);
  sqlite3* handle() { return db_; }
  int64_t LastInsertRowId() const;
  // Rows changed by the last INSERT, UPDATE or DELETE.
  int64_t Changes() const;
  std::string ErrorMessage() const;

 private:
  explicit SqliteDb(sqlite3* db) : db_(db) {}
  sqlite3* db_;
};

}  // namespace closedloop
