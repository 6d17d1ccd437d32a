// Seeded stratified splitting of a labelled table's rows, shared by the trainers.
// Each label's rows are shuffled (std::mt19937 seeded with `seed`) and round(share
// × count) of them go to the held-out part, but always at least one of a label with
// two or more rows and never all of them: every label keeps a training row.
// Pure function, thread-safe; the same seed and table give the same split.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "core/status.h"
#include "learn/csv_reader.h"

namespace closedloop {

struct RowSplit {
  std::vector<size_t> kept;      // ascending table row indices
  std::vector<size_t> held_out;  // ascending
};

// `rows`: the candidate row indices (all rows when empty). Rows with an empty
// label are dropped from both parts.
RowSplit StratifiedSplit(const CsvTable& table, size_t label_col, double share, int seed,
                         const std::vector<size_t>& rows = {});

// InvalidArgument naming the first label (in `rows`, or all rows) with fewer than
// `min_rows` examples: such a label can be neither learned nor validated.
Status RequireRowsPerLabel(const CsvTable& table, size_t label_col, size_t min_rows,
                           const std::string& source);

}  // namespace closedloop
