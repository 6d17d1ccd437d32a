// The shipped Banking77 files (examples/support/data, CRLF lines, label last)
// split by intent, for tests of what a model does with intents it never saw.
#pragma once

#include <set>
#include <string>

namespace closedloop::testing {

// Five intents held out of training in the out-of-scope and continual-learning tests.
const std::set<std::string>& HeldOutIntents();

// Writes the rows of `source` (a Banking77 CSV) whose label is in `labels` to
// `in_path` and the others to `out_path`, each with the header; returns the rows
// written to `in_path`.
size_t SplitByLabel(const std::string& source, const std::set<std::string>& labels,
                    const std::string& in_path, const std::string& out_path);

}  // namespace closedloop::testing
