// Base64 (RFC 4648, standard alphabet, with padding) for binary payloads in JSON:
// encoded images in requests, PNG thumbnails in responses.
// Thread safety: pure functions.
#pragma once

#include <string>
#include <string_view>

#include "core/status.h"

namespace closedloop {

std::string Base64Encode(std::string_view bytes);
// Decodes `text`; whitespace (line breaks of MIME-style base64) is skipped and the
// padding may be left off. InvalidArgument names the first bad character's offset.
StatusOr<std::string> Base64Decode(std::string_view text);

}  // namespace closedloop
