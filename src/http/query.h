// Query-string access for handlers: the value of one parameter of a request
// target ("/x?a=1&b=two%20words"), percent- and '+'-decoded; nullopt if absent.
// Pure functions, thread-safe.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace closedloop {

std::optional<std::string> QueryParam(std::string_view target, std::string_view key);
std::string UrlDecode(std::string_view s);

}  // namespace closedloop
