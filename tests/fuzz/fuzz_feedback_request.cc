// libFuzzer target: the /v1/feedback and /v1/feedback:batch body parsers. The
// first byte picks the form.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "feedback/feedback_request.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  std::string_view body(reinterpret_cast<const char*>(data) + 1, size - 1);
  // Contract: accepted feedback names a prediction, carries a signal, and its
  // values are in range.
  auto check = [](const closedloop::FeedbackRecord& f) {
    if (f.request_id.empty()) __builtin_trap();
    if (!f.rating && !f.comment && !f.nps && !f.label && !f.click && !f.dwell_ms &&
        !f.scroll_depth) {
      __builtin_trap();
    }
    if ((f.rating && (*f.rating < 1 || *f.rating > 5)) || (f.nps && (*f.nps < 0 || *f.nps > 10)) ||
        (f.scroll_depth && !(*f.scroll_depth >= 0 && *f.scroll_depth <= 1))) {
      __builtin_trap();
    }
  };
  if (data[0] % 2 == 0) {
    auto f = closedloop::ParseFeedbackRequest(body);
    if (f.ok()) check(*f);
  } else {
    auto batch = closedloop::ParseFeedbackBatch(body);
    if (batch.ok()) {
      if (batch->empty() || batch->size() > closedloop::kMaxFeedbackBatch) __builtin_trap();
      for (const auto& f : *batch) check(f);
    }
  }
  return 0;
}
