// Reads a labelled data file into a table with a header, whatever its format:
//   csv   RFC 4180 (quoted fields, doubled quotes, newlines inside quotes)
//   tsv   one row per line, fields split on tabs, no quoting (the usual TSV)
//   jsonl one JSON object per line; the first object's keys are the header;
//         strings as they are, numbers and booleans as their JSON text, null as "".
// The format comes from the file name (.csv, .tsv/.tab, .jsonl/.ndjson) unless
// given. Every row must have exactly the header's columns (a row with missing or
// extra fields is an error naming the file and line), every cell must be valid
// UTF-8, and a file without data rows is an error. Pure functions, thread-safe.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"
#include "learn/csv_reader.h"

namespace closedloop {

enum class TableFormat { kAuto, kCsv, kTsv, kJsonl };

// "", "auto", "csv", "tsv", "jsonl"; anything else is InvalidArgument.
StatusOr<TableFormat> ParseTableFormat(std::string_view name);
// kAuto resolved from the path's extension (InvalidArgument when it names none).
StatusOr<TableFormat> ResolveTableFormat(TableFormat format, const std::string& path);

StatusOr<CsvTable> ParseTsv(std::string_view text, std::string_view source_name);
StatusOr<CsvTable> ParseJsonl(std::string_view text, std::string_view source_name);
StatusOr<CsvTable> ParseTable(std::string_view text, TableFormat format,
                              std::string_view source_name);
// Reads the file (NotFound when it does not exist), parses and checks it.
StatusOr<CsvTable> ReadTable(const std::string& path, TableFormat format = TableFormat::kAuto);

}  // namespace closedloop
