#include "learn/training_data.h"

#include <fstream>
#include <iterator>

#include "core/sha256.h"
#include "learn/stratified_split.h"

namespace closedloop {

namespace {

std::vector<size_t> AllRows(const CsvTable& t) {
  std::vector<size_t> rows(t.rows.size());
  for (size_t i = 0; i < rows.size(); ++i) rows[i] = i;
  return rows;
}

Status Prepare(CsvTable& t, const DataSources& s) {
  ASSIGN_OR_RETURN(size_t lc, t.Column(s.label_col));
  for (const auto& c : s.required_cols) RETURN_IF_ERROR(t.Column(c).status());
  for (auto& row : t.rows) {
    auto it = s.label_names.find(row[lc]);
    if (it != s.label_names.end()) row[lc] = it->second;
  }
  return OkStatus();
}

}  // namespace

StatusOr<CsvTable> ReadTables(const std::vector<std::string>& paths, TableFormat format) {
  if (paths.empty()) return InvalidArgument("no input file");
  CsvTable all;
  for (const auto& p : paths) {
    ASSIGN_OR_RETURN(CsvTable t, ReadTable(p, format));
    if (all.header.empty()) {
      all = std::move(t);
    } else if (t.header != all.header) {
      return InvalidArgument("'" + p + "' has different columns from '" + paths[0] + "'");
    } else {
      std::move(t.rows.begin(), t.rows.end(), std::back_inserter(all.rows));
    }
  }
  return all;
}

StatusOr<TrainingData> LoadTrainingData(const DataSources& s) {
  TrainingData d;
  ASSIGN_OR_RETURN(d.data, ReadTables(s.inputs, s.format));
  RETURN_IF_ERROR(Prepare(d.data, s));
  size_t lc = *d.data.Column(s.label_col);
  RETURN_IF_ERROR(RequireRowsPerLabel(d.data, lc, 2, s.inputs[0]));
  std::vector<size_t> pool = AllRows(d.data);
  if (!s.test_inputs.empty()) {
    ASSIGN_OR_RETURN(d.test, ReadTables(s.test_inputs, s.format));
    RETURN_IF_ERROR(Prepare(d.test, s));
    d.test_rows = AllRows(d.test);
  } else if (s.test_fraction > 0) {
    RowSplit split = StratifiedSplit(d.data, lc, s.test_fraction, s.seed + 1);
    pool = std::move(split.kept);
    d.test_rows = std::move(split.held_out);
  }
  if (!s.validation_inputs.empty()) {
    ASSIGN_OR_RETURN(d.validation, ReadTables(s.validation_inputs, s.format));
    RETURN_IF_ERROR(Prepare(d.validation, s));
    d.validation_rows = AllRows(d.validation);
    d.train_rows = std::move(pool);
  } else {
    RowSplit split = StratifiedSplit(d.data, lc, s.validation_fraction, s.seed, pool);
    d.train_rows = std::move(split.kept);
    d.validation_rows = std::move(split.held_out);
  }
  std::string bytes;
  for (const auto& p : s.inputs) {
    std::ifstream in(p, std::ios::binary);
    bytes.append(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
  }
  d.data_sha256 = Sha256Hex(bytes);
  return d;
}

}  // namespace closedloop
