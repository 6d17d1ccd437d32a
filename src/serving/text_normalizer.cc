#include "serving/text_normalizer.h"

namespace closedloop {

std::string NormalizeText(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 16);
  auto space = [&out] {
    if (!out.empty() && out.back() != ' ') out += ' ';
  };
  for (char ch : text) {
    auto c = static_cast<unsigned char>(ch);
    if (c >= 'A' && c <= 'Z') {
      out += static_cast<char>(c - 'A' + 'a');
    } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f') {
      space();
    } else if (c < 0x80 && c != '\'' && !(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'z') &&
               c != '_' && c != '-') {
      space();  // punctuation becomes its own token
      if (c >= 0x20) {
        out += ch;
        out += ' ';
      }
    } else {
      out += ch;
    }
  }
  while (!out.empty() && out.back() == ' ') out.pop_back();
  return out;
}

}  // namespace closedloop
