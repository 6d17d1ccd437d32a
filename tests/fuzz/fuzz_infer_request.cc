// libFuzzer target: the Open Inference Protocol v2 infer body parser, both forms:
// the whole input as a JSON body, and (binary tensor data extension) the input
// after its first two bytes as a body whose JSON header length is those two bytes
// (little-endian), as Inference-Header-Content-Length would give it.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "serving/infer_request.h"

namespace {

void Check(std::string_view body, std::optional<uint64_t> header_length) {
  auto r = closedloop::ParseInferRequest(body, {}, header_length);
  if (r.ok()) {
    for (const auto& t : r->inputs) {  // contract: data matches the declared shape
      auto n = closedloop::ElementCount(t.shape, UINT64_MAX);
      if (!n || *n != t.size()) __builtin_trap();
    }
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view all(reinterpret_cast<const char*>(data), size);
  Check(all, std::nullopt);
  if (size >= 2) Check(all.substr(2), static_cast<uint64_t>(data[0]) | (uint64_t{data[1]} << 8));
  return 0;
}
