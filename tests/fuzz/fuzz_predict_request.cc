// libFuzzer target: the /v1/predict JSON body parser.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "serving/predict_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  auto r = closedloop::ParsePredictRequest(body, 10000);
  // Contract: a model, and exactly one of text or features (found by fuzzing: the
  // first version of this check predated features; see regressions/).
  if (r.ok() && (r->model.empty() || r->text.empty() == !r->has_features)) __builtin_trap();
  return 0;
}
