// libFuzzer target: the training-data readers (CSV, TSV, JSONL). The first byte
// picks the format, the rest is the file's content.
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "learn/table_reader.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  using closedloop::TableFormat;
  const TableFormat formats[] = {TableFormat::kCsv, TableFormat::kTsv, TableFormat::kJsonl};
  std::string_view text(reinterpret_cast<const char*>(data) + 1, size - 1);
  auto t = closedloop::ParseTable(text, formats[data[0] % 3], "fuzz");
  // Contract: a table has a header, at least one row, every row exactly the
  // header's width, and only valid UTF-8 cells.
  if (!t.ok()) return 0;
  if (t->header.empty() || t->rows.empty()) __builtin_trap();
  for (const auto& row : t->rows) {
    if (row.size() != t->header.size()) __builtin_trap();
    for (const auto& cell : row) {
      if (!simdjson::validate_utf8(cell.data(), cell.size())) __builtin_trap();
    }
  }
  return 0;
}
