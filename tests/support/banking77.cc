#include "support/banking77.h"

#include <fstream>

namespace closedloop::testing {

const std::set<std::string>& HeldOutIntents() {
  static const std::set<std::string> held = {"card_arrival", "Refund_not_showing_up",
                                             "lost_or_stolen_card", "exchange_rate",
                                             "top_up_failed"};
  return held;
}

size_t SplitByLabel(const std::string& source, const std::set<std::string>& labels,
                    const std::string& in_path, const std::string& out_path) {
  std::ifstream in(source);
  std::ofstream yes(in_path), no(out_path);
  size_t n = 0;
  bool header = true;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();  // the files have CRLF lines
    if (header) {
      yes << line << "\n";
      no << line << "\n";
      header = false;
      continue;
    }
    if (labels.count(line.substr(line.rfind(',') + 1))) {
      yes << line << "\n";
      ++n;
    } else {
      no << line << "\n";
    }
  }
  return n;
}

}  // namespace closedloop::testing
