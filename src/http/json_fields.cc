#include "http/json_fields.h"

#include <simdjson.h>

#include <algorithm>

namespace closedloop {

StatusOr<std::map<std::string, std::string>> StringFields(std::string_view body,
                                                          const std::vector<std::string>& allowed) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto e = parser.parse(body.data(), body.size()).get(doc)) {
    return InvalidArgument(std::string("malformed JSON: ") + simdjson::error_message(e));
  }
  simdjson::dom::object obj;
  if (doc.get(obj)) return InvalidArgument("request body must be a JSON object");
  std::map<std::string, std::string> out;
  for (auto f : obj) {
    std::string key(f.key);
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string list;
      for (const auto& a : allowed) list += (list.empty() ? "" : ", ") + a;
      return InvalidArgument("unknown field '" + key + "' (expected: " + list + ")");
    }
    std::string_view s;
    if (f.value.get(s)) return InvalidArgument("field '" + key + "' must be a string");
    out[key] = std::string(s);
  }
  return out;
}

}  // namespace closedloop
