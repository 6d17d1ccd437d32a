// SHA-256 (OpenSSL EVP) rendered as 64 lowercase hex characters.
// Thread safety: a pure function.
#pragma once

#include <string>
#include <string_view>

namespace closedloop {

std::string Sha256Hex(std::string_view data);

}  // namespace closedloop
