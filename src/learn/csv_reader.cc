#include "learn/csv_reader.h"

#include <fstream>
#include <sstream>

namespace closedloop {

StatusOr<size_t> CsvTable::Column(std::string_view name) const {
  for (size_t i = 0; i < header.size(); ++i) {
    if (header[i] == name) return i;
  }
  std::string present;
  for (const auto& h : header) present += (present.empty() ? "" : ", ") + h;
  return NotFound("column '" + std::string(name) + "' not found (columns: " + present + ")");
}

StatusOr<CsvTable> ParseCsv(std::string_view text, std::string_view source) {
  CsvTable table;
  std::vector<std::string> row;
  std::string field;
  bool in_quotes = false, field_started = false;
  size_t line = 1, row_line = 1;
  auto end_row = [&]() -> Status {
    row.push_back(std::move(field));
    field.clear();
    field_started = false;
    if (row.size() == 1 && row[0].empty()) {  // blank line
      row.clear();
      return OkStatus();
    }
    if (table.header.empty()) {
      table.header = std::move(row);
    } else if (row.size() != table.header.size()) {
      return InvalidArgument(std::string(source) + ":" + std::to_string(row_line) + ": " +
                             std::to_string(row.size()) + " fields, header has " +
                             std::to_string(table.header.size()));
    } else {
      table.rows.push_back(std::move(row));
    }
    row.clear();
    return OkStatus();
  };
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
    } else if (c == '"' && !field_started) {
      in_quotes = true;
      field_started = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      field_started = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      RETURN_IF_ERROR(end_row());
      ++line;
      row_line = line;
    } else {
      field += c;
      field_started = true;
    }
  }
  if (in_quotes) {
    return InvalidArgument(std::string(source) + ":" + std::to_string(row_line) +
                           ": unterminated quoted field");
  }
  if (field_started || !row.empty()) RETURN_IF_ERROR(end_row());
  if (table.header.empty()) return InvalidArgument(std::string(source) + ": empty file");
  return table;
}

StatusOr<CsvTable> ReadCsvFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseCsv(ss.str(), path);
}

}  // namespace closedloop
