#include "learn/stratified_split.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <random>

namespace closedloop {

RowSplit StratifiedSplit(const CsvTable& table, size_t label_col, double share, int seed,
                         const std::vector<size_t>& rows) {
  std::map<std::string, std::vector<size_t>> by_label;
  auto add = [&](size_t r) {
    if (!table.rows[r][label_col].empty()) by_label[table.rows[r][label_col]].push_back(r);
  };
  if (rows.empty()) {
    for (size_t r = 0; r < table.rows.size(); ++r) add(r);
  } else {
    for (size_t r : rows) add(r);
  }
  RowSplit split;
  std::mt19937 rng(static_cast<uint32_t>(seed));
  for (auto& [label, members] : by_label) {
    size_t n = 0;
    if (share > 0 && members.size() >= 2) {
      auto want = static_cast<size_t>(std::lround(share * static_cast<double>(members.size())));
      n = std::clamp<size_t>(want, 1, members.size() - 1);
    }
    std::shuffle(members.begin(), members.end(), rng);
    split.held_out.insert(split.held_out.end(), members.begin(), members.begin() + n);
    split.kept.insert(split.kept.end(), members.begin() + n, members.end());
  }
  std::sort(split.kept.begin(), split.kept.end());
  std::sort(split.held_out.begin(), split.held_out.end());
  return split;
}

Status RequireRowsPerLabel(const CsvTable& table, size_t label_col, size_t min_rows,
                           const std::string& source) {
  std::map<std::string, size_t> counts;
  for (const auto& row : table.rows) {
    if (!row[label_col].empty()) counts[row[label_col]]++;
  }
  if (counts.empty()) return InvalidArgument(source + ": no labelled rows");
  for (const auto& [label, n] : counts) {
    if (n < min_rows) {
      return InvalidArgument(source + ": label '" + label + "' has " + std::to_string(n) +
                             " example" + (n == 1 ? "" : "s") + "; every label needs at least " +
                             std::to_string(min_rows) + " to be trained and validated");
    }
  }
  return OkStatus();
}

}  // namespace closedloop
