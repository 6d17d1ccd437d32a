// DriftMonitor: live drift of each served text model against the reference
// profile saved with its champion version (monitor/reference_profile.h).
//
// A window is the model's newest window_predictions predictions in the
// prediction log (all its versions), or with window_minutes > 0 the predictions
// of the last N minutes. Signals, each with its test, statistic,
// p-value, PSI and severity (PSI bands: < 0.1 OK, 0.1–0.25 WARNING, > 0.25
// CRITICAL; p-values Benjamini–Hochberg-adjusted over the window's tests):
//   prediction   predicted-label counts: chi-square (reference counts + 0.5 per
//                category), categorical PSI;
//   confidence   top-label confidence: KS, PSI;
//   text_length  characters: KS, PSI;            (need stored input texts)
//   oov_rate     out-of-vocabulary share: KS, PSI;
//   embedding    sentence vectors: MMD permutation test (WARNING when drifted);
//                for image models the penultimate-layer activations logged with
//                each image ([image] embedding_output);
//   feature:*    tabular models' features; image models' feature:brightness and
//                feature:contrast (KS, PSI), from the logged image statistics;
//   label        people's labels in the window (once min_labels arrived):
//                chi-square, categorical PSI.
// Fewer than min_window predictions is the "not enough data" state, not an error.
// A CRITICAL window calls `on_critical(model, reason)` — the retraining hook — at
// most once per full new window of the model.
//
// Thread safety: every method from any thread (a mutex guards the kept reports;
// evaluations are control-plane work and may run concurrently).
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/config.h"
#include "core/status.h"
#include "monitor/drift_histogram.h"
#include "monitor/reference_profile.h"
#include "serving/model_repository.h"
#include "store/prediction_log.h"

namespace closedloop {

struct DriftSignal {
  std::string name;
  std::string test;  // chi_square | ks | mmd | none
  std::optional<double> statistic, p_value, adjusted_p_value, psi;
  std::string severity = "OK";
  bool drifted = false;
  std::string note;
  std::optional<DriftHistogram> histogram;  // reference vs window, for the console
};

struct ModelDriftReport {
  std::string model;
  std::string version;  // of the reference profile (the champion)
  int64_t computed_ms = 0;
  int64_t window_predictions = 0, window_labels = 0;
  int64_t window_minutes = 0;  // > 0: a time window
  int64_t from_ms = 0, to_ms = 0;
  std::string newest_request_id;
  std::string state;     // ok | not_enough_data | no_reference
  std::string severity;  // OK | WARNING | CRITICAL
  std::vector<DriftSignal> signals;
  bool retrain_requested = false;
};

class DriftMonitor {
 public:
  using RetrainHook = std::function<void(const std::string& model, const std::string& reason)>;
  DriftMonitor(const MonitorConfig& config, const ModelRepository& models, PredictionLog& log,
               const Clock& clock, RetrainHook on_critical);
  ~DriftMonitor();

  // Computes (and keeps) the report of the newest `window` predictions (0: the
  // configured size). NotFound for a model that is not served.
  // `window_minutes` > 0 (or the configured window_minutes when both are 0): a
  // time window — the predictions of the last N minutes, at most `window` (default
  // kMaxTimeWindowPredictions) of the newest.
  StatusOr<ModelDriftReport> Evaluate(const std::string& model, int64_t window = 0,
                                      int64_t window_minutes = 0);
  static constexpr int64_t kMaxTimeWindowPredictions = 1000000;
  // Kept reports (the newest kKeptReports per model, the console's drift history),
  // newest first; `model` empty: every model's.
  static constexpr size_t kKeptReports = 200;
  std::vector<ModelDriftReport> Latest(const std::string& model) const;
  // Called with every computed report (any thread, no lock held); set before Start().
  void SetReportListener(std::function<void(const ModelDriftReport&)> listener) {
    listener_ = std::move(listener);
  }
  // Every interval_ms: Evaluate every served text model that has a profile.
  void Start();
  void Stop();

 private:
  // The reference profile of a served version, read once per version files.
  StatusOr<std::shared_ptr<const ReferenceProfile>> Profile(const ModelVersion& v);

  const MonitorConfig config_;
  const ModelRepository& models_;
  PredictionLog& log_;
  const Clock& clock_;
  RetrainHook on_critical_;
  std::function<void(const ModelDriftReport&)> listener_;
  mutable std::mutex mu_;
  std::map<std::string, std::deque<ModelDriftReport>> reports_;  // guarded by mu_
  std::map<std::string, std::string> last_trigger_;  // model -> newest request id of that window
  std::map<std::string, std::shared_ptr<const ReferenceProfile>> profiles_;  // by version files
  bool stop_ = false;                                                        // guarded by mu_
  std::condition_variable cv_;
  std::thread thread_;
};

// `histograms`: each signal's reference-vs-window histogram too (as "histogram":
// {edges | categories, reference, current}).
std::string ModelDriftReportJson(const ModelDriftReport& r, bool histograms = false);

}  // namespace closedloop
