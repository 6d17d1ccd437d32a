#include "learn/tabular_feedback_rows.h"

#include <simdjson.h>

#include <cmath>

#include "core/json_writer.h"

namespace closedloop {

StatusOr<std::vector<std::string>> FeedbackRowCells(
    std::string_view input_json, const std::vector<std::string>& header,
    const std::string& label_col, const std::string& label,
    const std::map<std::string, std::vector<std::string>>& categories) {
  simdjson::dom::parser parser;
  simdjson::dom::object input;
  if (parser.parse(input_json.data(), input_json.size()).get(input)) {
    return InvalidArgument("the logged input is not a JSON object of features");
  }
  std::vector<std::string> cells(header.size());
  for (size_t c = 0; c < header.size(); ++c) {
    if (header[c] == label_col) {
      cells[c] = label;
      continue;
    }
    simdjson::dom::element v;
    if (input[header[c]].get(v) || v.is_null()) continue;  // ignored column or missing
    double x = 0;
    if (v.get(x)) {
      return InvalidArgument("the logged feature '" + header[c] + "' is not a number");
    }
    auto cat = categories.find(header[c]);
    if (cat != categories.end()) {
      if (!(x >= 0) || x != std::floor(x) || x >= static_cast<double>(cat->second.size())) {
        continue;  // a value the model never saw was logged as missing
      }
      cells[c] = cat->second[static_cast<size_t>(x)];
      continue;
    }
    JsonWriter w(32);
    w.Double(x);
    cells[c] = w.str();
  }
  return cells;
}

std::string JsonlRow(const std::vector<std::string>& header,
                     const std::vector<std::string>& cells) {
  JsonWriter w(256);
  w.BeginObject();
  for (size_t c = 0; c < header.size(); ++c) w.Key(header[c]).String(cells[c]);
  w.EndObject();
  return std::move(w).Take();
}

}  // namespace closedloop
