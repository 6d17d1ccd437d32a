// The text preprocessing shared by training and serving, so a model always sees
// text shaped the way it was trained: ASCII letters lowercased, punctuation split
// off as separate tokens, runs of whitespace (incl. newlines) folded to one space.
// Non-ASCII bytes (UTF-8) are kept as they are. Pure function, thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace closedloop {

std::string NormalizeText(std::string_view text);

}  // namespace closedloop
