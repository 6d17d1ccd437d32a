// The shipped Banking77 files (examples/support/data, CRLF lines, label last)
// split by intent, for tests of what a model does with intents it never saw.
#pragma once

#include <set>
#include <string>
#include <vector>

namespace closedloop::testing {

// Five intents held out of training in the out-of-scope tests; several are close
// to intents that stay (card_arrival and card_delivery_estimate, ...).
const std::set<std::string>& HeldOutIntents();
// Five intents about products and rules (Apple Pay, age limit, countries, card
// networks, ATMs) that the continual-learning tests add to a model as new.
const std::set<std::string>& NewProductIntents();

// Writes the rows of `source` (a Banking77 CSV) whose label is in `labels` to
// `in_path` and the others to `out_path`, each with the header; returns the rows
// written to `in_path`.
size_t SplitByLabel(const std::string& source, const std::set<std::string>& labels,
                    const std::string& in_path, const std::string& out_path);

struct TextLabel {
  std::string text, label;
};
// The (text, label) rows of a Banking77 CSV, quotes undone.
std::vector<TextLabel> ReadTextLabelRows(const std::string& path);

// `s` as a JSON string literal, quotes included.
std::string JsonString(const std::string& s);

}  // namespace closedloop::testing
