// Parses a JSON response body in tests (simdjson DOM). Parse failures fail the test.
#pragma once

#include <memory>
#include <string>

#include <simdjson.h>

namespace closedloop::testing {

struct Json {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  std::string_view Str(const char* key) const;
  double Num(const char* key) const;
  bool Has(const char* key) const;
};

std::unique_ptr<Json> ParseJson(const std::string& text);

}  // namespace closedloop::testing
