// Query-string access for handlers: the value of one parameter of a request
// target ("/x?a=1&b=two%20words"), percent- and '+'-decoded; nullopt if absent.
// Pure functions, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/status.h"

namespace closedloop {

std::optional<std::string> QueryParam(std::string_view target, std::string_view key);
std::string UrlDecode(std::string_view s);
// An integer parameter in [lo, hi]; `fallback` when absent; InvalidArgument naming
// the parameter and the range otherwise.
StatusOr<int64_t> QueryInt(std::string_view target, std::string_view key, int64_t fallback,
                           int64_t lo, int64_t hi);

}  // namespace closedloop
