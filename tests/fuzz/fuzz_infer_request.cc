// libFuzzer target: the Open Inference Protocol v2 infer body parser.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "serving/infer_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto r = closedloop::ParseInferRequest(body);
  if (r.ok()) {
    for (const auto& t : r->inputs) {  // contract: data matches the declared shape
      auto n = closedloop::ElementCount(t.shape, UINT64_MAX);
      if (!n || *n != t.size()) __builtin_trap();
    }
  }
  return 0;
}
