#include "learn/table_reader.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include <simdjson.h>

namespace closedloop {

namespace {

std::string Where(std::string_view source, size_t line) {
  return std::string(source) + ":" + std::to_string(line);
}

// Line numbers of a parsed table's rows are not kept by every parser; find the
// first bad cell by scanning rows (row i is data line i + 2 for line formats).
Status CheckCells(const CsvTable& t, std::string_view source) {
  for (const auto& h : t.header) {
    if (!simdjson::validate_utf8(h.data(), h.size())) {
      return InvalidArgument(std::string(source) + ": header is not valid UTF-8");
    }
  }
  for (size_t r = 0; r < t.rows.size(); ++r) {
    for (size_t c = 0; c < t.rows[r].size(); ++c) {
      const std::string& cell = t.rows[r][c];
      if (!simdjson::validate_utf8(cell.data(), cell.size())) {
        return InvalidArgument(std::string(source) + ": data row " + std::to_string(r + 1) +
                               ", column '" + t.header[c] + "': text is not valid UTF-8");
      }
    }
  }
  if (t.rows.empty()) return InvalidArgument(std::string(source) + ": no data rows");
  return OkStatus();
}

// Takes the next line off `text` (without its '\n' and a trailing '\r').
std::string_view NextLine(std::string_view& text, size_t& line_number) {
  size_t nl = text.find('\n');
  std::string_view l = text.substr(0, nl);
  text.remove_prefix(nl == std::string_view::npos ? text.size() : nl + 1);
  ++line_number;
  if (!l.empty() && l.back() == '\r') l.remove_suffix(1);
  return l;
}

}  // namespace

StatusOr<TableFormat> ParseTableFormat(std::string_view name) {
  if (name.empty() || name == "auto") return TableFormat::kAuto;
  if (name == "csv") return TableFormat::kCsv;
  if (name == "tsv") return TableFormat::kTsv;
  if (name == "jsonl") return TableFormat::kJsonl;
  return InvalidArgument("format '" + std::string(name) + "' is not one of csv, tsv, jsonl");
}

StatusOr<TableFormat> ResolveTableFormat(TableFormat format, const std::string& path) {
  if (format != TableFormat::kAuto) return format;
  std::string ext = std::filesystem::path(path).extension().string();
  for (auto& ch : ext) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  if (ext == ".csv") return TableFormat::kCsv;
  if (ext == ".tsv" || ext == ".tab") return TableFormat::kTsv;
  if (ext == ".jsonl" || ext == ".ndjson") return TableFormat::kJsonl;
  return InvalidArgument("cannot tell the format of '" + path +
                         "' from its name; pass --format csv|tsv|jsonl");
}

StatusOr<CsvTable> ParseTsv(std::string_view text, std::string_view source) {
  CsvTable t;
  size_t line = 0;
  while (!text.empty()) {
    std::string_view l = NextLine(text, line);
    if (l.empty()) continue;
    std::vector<std::string> fields;
    size_t start = 0;
    for (;;) {
      size_t tab = l.find('\t', start);
      fields.emplace_back(l.substr(start, tab == std::string_view::npos ? l.npos : tab - start));
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    if (t.header.empty()) {
      t.header = std::move(fields);
    } else if (fields.size() != t.header.size()) {
      return InvalidArgument(Where(source, line) + ": " + std::to_string(fields.size()) +
                             " fields, header has " + std::to_string(t.header.size()));
    } else {
      t.rows.push_back(std::move(fields));
    }
  }
  if (t.header.empty()) return InvalidArgument(std::string(source) + ": empty file");
  return t;
}

StatusOr<CsvTable> ParseJsonl(std::string_view text, std::string_view source) {
  CsvTable t;
  simdjson::dom::parser parser;
  size_t line = 0;
  while (!text.empty()) {
    std::string_view l = NextLine(text, line);
    while (!l.empty() && l.back() == ' ') l.remove_suffix(1);
    if (l.empty()) continue;
    simdjson::dom::element doc;
    if (auto e = parser.parse(l.data(), l.size()).get(doc)) {
      return InvalidArgument(Where(source, line) + ": " + simdjson::error_message(e));
    }
    simdjson::dom::object obj;
    if (doc.get(obj)) return InvalidArgument(Where(source, line) + ": not a JSON object");
    if (t.header.empty()) {
      for (auto field : obj) t.header.emplace_back(field.key);
      if (t.header.empty()) return InvalidArgument(Where(source, line) + ": object has no keys");
    }
    if (obj.size() != t.header.size()) {
      return InvalidArgument(Where(source, line) + ": " + std::to_string(obj.size()) +
                             " fields, the first line has " + std::to_string(t.header.size()));
    }
    std::vector<std::string> row;
    for (const auto& key : t.header) {
      simdjson::dom::element v;
      if (obj[key].get(v)) {
        return InvalidArgument(Where(source, line) + ": missing field '" + key + "'");
      }
      std::string_view s;
      if (!v.get(s)) {
        row.emplace_back(s);
      } else if (v.is_null()) {
        row.emplace_back();
      } else if (v.is_array() || v.is_object()) {
        return InvalidArgument(Where(source, line) + ": field '" + key +
                               "' must be a string, number, boolean or null");
      } else {
        row.push_back(simdjson::minify(v));
      }
    }
    t.rows.push_back(std::move(row));
  }
  if (t.header.empty()) return InvalidArgument(std::string(source) + ": empty file");
  return t;
}

StatusOr<CsvTable> ParseTable(std::string_view text, TableFormat format, std::string_view source) {
  StatusOr<CsvTable> t = InvalidArgument("format not resolved");
  switch (format) {
    case TableFormat::kCsv:
      t = ParseCsv(text, source);
      break;
    case TableFormat::kTsv:
      t = ParseTsv(text, source);
      break;
    case TableFormat::kJsonl:
      t = ParseJsonl(text, source);
      break;
    case TableFormat::kAuto:
      break;
  }
  if (!t.ok()) return t.status();
  RETURN_IF_ERROR(CheckCells(*t, source));
  return t;
}

StatusOr<CsvTable> ReadTable(const std::string& path, TableFormat format) {
  ASSIGN_OR_RETURN(TableFormat resolved, ResolveTableFormat(format, path));
  std::ifstream in(path, std::ios::binary);
  if (!in) return NotFound("cannot read '" + path + "': no such file");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseTable(ss.str(), resolved, path);
}

}  // namespace closedloop
