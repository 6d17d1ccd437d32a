// Feedback on a tabular model's predictions as rows of its training table. The
// prediction log keeps a tabular request's canonical input: a JSON object of
// every feature in model order, numbers as numbers, categorical features as
// their codes and missing values as null (serving/predict_api.cc). This turns one
// back into the table's cells: codes become the category strings of the
// model's config.toml, null an empty cell, columns the input lacks (ignored
// columns) empty, and the label column the label.
// Pure functions, thread-safe.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace closedloop {

// Cells in `header` order (a code outside its category list is a missing cell).
// InvalidArgument when the input is not an object of numbers and nulls.
StatusOr<std::vector<std::string>> FeedbackRowCells(
    std::string_view input_json, const std::vector<std::string>& header,
    const std::string& label_col, const std::string& label,
    const std::map<std::string, std::vector<std::string>>& categories);

// One JSONL line: {"header[0]": "cell", ...}, every cell a string.
std::string JsonlRow(const std::vector<std::string>& header, const std::vector<std::string>& cells);

}  // namespace closedloop
