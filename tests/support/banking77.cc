#include "support/banking77.h"

#include <algorithm>
#include <fstream>

namespace closedloop::testing {

namespace {

// The records of a CSV file as raw lines (quoted newlines kept), CR stripped.
std::vector<std::string> Records(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty() && line.back() == '\r') line.pop_back();  // the files have CRLF lines
    // A quoted field may hold newlines: a record ends where its quotes balance.
    for (std::string more;
         std::count(line.begin(), line.end(), '"') % 2 == 1 && std::getline(in, more);) {
      if (!more.empty() && more.back() == '\r') more.pop_back();
      line += "\n" + more;
    }
    out.push_back(std::move(line));
  }
  return out;
}

}  // namespace

const std::set<std::string>& HeldOutIntents() {
  static const std::set<std::string> held = {"card_arrival", "Refund_not_showing_up",
                                             "lost_or_stolen_card", "exchange_rate",
                                             "top_up_failed"};
  return held;
}

const std::set<std::string>& NewProductIntents() {
  static const std::set<std::string> added = {"apple_pay_or_google_pay", "age_limit",
                                              "country_support", "visa_or_mastercard",
                                              "atm_support"};
  return added;
}

std::vector<TextLabel> ReadTextLabelRows(const std::string& path) {
  std::vector<TextLabel> rows;
  const auto records = Records(path);
  for (size_t i = 1; i < records.size(); ++i) {
    const std::string& r = records[i];
    const size_t comma = r.rfind(',');
    std::string text = r.substr(0, comma);
    if (text.size() >= 2 && text.front() == '"' && text.back() == '"') {
      std::string unquoted;
      for (size_t k = 1; k + 1 < text.size(); ++k) {
        unquoted += text[k];
        if (text[k] == '"' && text[k + 1] == '"') ++k;  // "" is one quote
      }
      text = std::move(unquoted);
    }
    rows.push_back({std::move(text), r.substr(comma + 1)});
  }
  return rows;
}

size_t SplitByLabel(const std::string& source, const std::set<std::string>& labels,
                    const std::string& in_path, const std::string& out_path) {
  std::ofstream yes(in_path), no(out_path);
  size_t n = 0;
  const auto records = Records(source);
  for (size_t i = 0; i < records.size(); ++i) {
    const std::string& r = records[i];
    if (i == 0) {
      yes << r << "\n";
      no << r << "\n";
    } else if (labels.count(r.substr(r.rfind(',') + 1))) {
      yes << r << "\n";
      ++n;
    } else {
      no << r << "\n";
    }
  }
  return n;
}

std::string JsonString(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (c == '\n') {
      out += "\\n";
    } else if (static_cast<unsigned char>(c) < 0x20) {
      out += ' ';
    } else {
      out += c;
    }
  }
  return out + "\"";
}

}  // namespace closedloop::testing
