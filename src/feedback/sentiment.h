// The sentiment of a text as S = p(positive) − p(negative) in [−1, 1], from a
// served text model whose labels include "positive" and "negative" (the demo's
// comment-sentiment). nullopt when the model is not served or cannot score the
// text. Thread-safe (reads the repository's snapshot).
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "serving/model_repository.h"

namespace closedloop {

std::optional<double> TextSentiment(const ModelRepository& models, const std::string& model,
                                    std::string_view text);

}  // namespace closedloop
