// RFC 4180 CSV reading (quoted fields, doubled quotes, CRLF or LF, newlines inside
// quotes) with a header row. Errors name the file and the line.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace closedloop {

struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  // Index of a header column, or NotFound naming the column and the ones present.
  StatusOr<size_t> Column(std::string_view name) const;
};

StatusOr<CsvTable> ParseCsv(std::string_view text, std::string_view source_name);
StatusOr<CsvTable> ReadCsvFile(const std::string& path);

}  // namespace closedloop
