// Small JSON request bodies whose fields are all strings (control-plane and app
// endpoints): the object's fields by name. Errors, as InvalidArgument: malformed
// JSON, not an object, a field not in `allowed` ("unknown field 'x' (expected:
// a, b)"), a value that is not a string. Absent fields are simply missing from
// the map. Thread-safe (one parser per thread).
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace closedloop {

StatusOr<std::map<std::string, std::string>> StringFields(std::string_view body,
                                                          const std::vector<std::string>& allowed);

}  // namespace closedloop
