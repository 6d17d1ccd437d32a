// The data of one training: training, validation and test rows, read from files
// (CSV/TSV/JSONL) and split the same way by every trainer:
//   test       = the test files, else a stratified `test_fraction` of the input
//                (seed + 1), taken first so it is never trained on;
//   validation = the validation files, else a stratified `validation_fraction` of
//                what is left (seed);
//   train      = the rest.
// Every label of the input needs at least two rows. Labels are renamed through
// `label_names` in every table. Not thread-safe; a value type.
#pragma once

#include <map>
#include <string>
#include <vector>

#include "core/status.h"
#include "learn/csv_reader.h"
#include "learn/table_reader.h"

namespace closedloop {

struct DataSources {
  std::vector<std::string> inputs;
  std::vector<std::string> validation_inputs;
  std::vector<std::string> test_inputs;
  TableFormat format = TableFormat::kAuto;
  std::string label_col;
  std::vector<std::string> required_cols;  // besides the label, in every table
  std::map<std::string, std::string> label_names;
  double validation_fraction = 0.1;
  double test_fraction = 0;
  int seed = 42;
};

struct TrainingData {
  CsvTable data;        // the inputs, concatenated
  CsvTable validation;  // the validation files (empty header when split from data)
  CsvTable test;        // the test files (empty header when split or absent)
  std::vector<size_t> train_rows, validation_rows, test_rows;
  std::string data_sha256;  // of the input files' bytes, in order

  const CsvTable& validation_table() const { return validation.header.empty() ? data : validation; }
  const CsvTable& test_table() const { return test.header.empty() ? data : test; }
};

StatusOr<TrainingData> LoadTrainingData(const DataSources& sources);

// Reads and concatenates files of the same header (InvalidArgument otherwise).
StatusOr<CsvTable> ReadTables(const std::vector<std::string>& paths, TableFormat format);

}  // namespace closedloop
