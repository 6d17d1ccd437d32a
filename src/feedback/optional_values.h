// Absent-or-number values of the feedback reports: read from a SQL column (NULL
// is absent) and written to JSON (absent is null). Stateless; thread-safe.
#pragma once

#include <optional>

#include "core/json_writer.h"
#include "store/sqlite_db.h"

namespace closedloop {

inline std::optional<double> OptionalColumn(const SqliteStatement& q, int i) {
  if (!q.ColumnTextOrNull(i)) return std::nullopt;
  return q.ColumnDouble(i);
}

inline void OptionalField(JsonWriter& w, const char* key, const std::optional<double>& v) {
  w.Key(key);
  if (v) {
    w.Double(*v);
  } else {
    w.Null();
  }
}

}  // namespace closedloop
