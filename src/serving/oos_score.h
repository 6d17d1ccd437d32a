// Out-of-scope scores: how much a text model believes an inquiry belongs to one
// of its intents; higher is more in scope. An inquiry scoring below the model's
// oos_threshold (config.toml, fitted at training) is out of scope.
//   max_probability  the top calibrated probability
//   max_logit        the largest uncalibrated logit (Hendrycks et al., 2019)
//   energy           T * logsumexp(logits / T), the negative free energy
//                    (Liu et al., 2020), T the model's temperature
// Pure functions; safe to call concurrently on a thread-safe backend.
#pragma once

#include <optional>
#include <string_view>
#include <vector>

#include "core/status.h"
#include "serving/backend.h"
#include "serving/model_config.h"

namespace closedloop {

enum class OosScoreKind { kMaxProbability, kMaxLogit, kEnergy };

// "max_probability", "max_logit", "energy"; anything else is InvalidArgument.
StatusOr<OosScoreKind> ParseOosScore(std::string_view name);
std::string_view OosScoreName(OosScoreKind kind);

StatusOr<double> InScopeScore(const Backend& model, std::string_view text, OosScoreKind kind,
                              double temperature);

// The in-scope score `config` names (oos_score) for `text`, or nullopt when the
// config has no oos_threshold. `top_probability` is the calibrated top
// probability the caller already has, so max_probability costs no second prediction.
StatusOr<std::optional<double>> ConfiguredInScopeScore(const Backend& model,
                                                       const ModelConfig& config,
                                                       std::string_view text,
                                                       double top_probability);

// The threshold that keeps `keep` (0..1) of these in-scope scores: their
// (1 - keep) quantile. InvalidArgument for no scores.
StatusOr<double> KeepThreshold(std::vector<double> in_scope_scores, double keep);

// KeepThreshold over the in-scope scores of `texts` (texts the model cannot
// score are left out).
StatusOr<double> FitOosThreshold(const Backend& model, const std::vector<std::string>& texts,
                                 OosScoreKind kind, double temperature, double keep);

}  // namespace closedloop
