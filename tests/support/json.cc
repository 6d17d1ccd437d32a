#include "support/json.h"

#include <stdexcept>

namespace closedloop::testing {

std::unique_ptr<Json> ParseJson(const std::string& text) {
  auto j = std::make_unique<Json>();
  if (j->parser.parse(text).get(j->root)) throw std::runtime_error("not JSON: " + text);
  return j;
}

std::string_view Json::Str(const char* key) const {
  std::string_view v;
  if (root[key].get(v)) return "<missing>";
  return v;
}

double Json::Num(const char* key) const {
  double v = 0;
  if (root[key].get(v)) {
    int64_t i = 0;
    if (root[key].get(i)) return -1e300;
    return static_cast<double>(i);
  }
  return v;
}

bool Json::Has(const char* key) const { return !root[key].error(); }

}  // namespace closedloop::testing
