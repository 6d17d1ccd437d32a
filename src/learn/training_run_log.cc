#include "learn/training_run_log.h"

#include <filesystem>

#ifndef CLOSEDLOOP_GIT_COMMIT
#define CLOSEDLOOP_GIT_COMMIT "unknown"
#endif

namespace closedloop {

StatusOr<std::string> LogTextTrainingRun(TrackingStore& store, const std::string& experiment,
                                         const TextTrainOptions& o, const TextTrainResult& r,
                                         const Clock& clock) {
  std::string experiment_id;
  auto existing = store.GetExperimentByName(experiment);
  if (existing.ok()) {
    experiment_id = existing->experiment_id;
  } else if (existing.status().code() == StatusCode::kNotFound) {
    ASSIGN_OR_RETURN(experiment_id, store.CreateExperiment(experiment, "", {}));
  } else {
    return existing.status();
  }
  int64_t end = clock.NowUnixMillis();
  int64_t start = end - static_cast<int64_t>(r.train_seconds * 1000);
  std::string run_name = std::filesystem::path(o.output_dir).lexically_normal().string();
  ASSIGN_OR_RETURN(RunInfo run, store.CreateRun(experiment_id, run_name, "closedloop", start,
                                                {{"mlflow.source.name", "closedloop train text"}}));
  KeyValues params = {{"input", o.input},
                      {"validation", o.validation_input},
                      {"text_col", o.text_col},
                      {"label_col", o.label_col},
                      {"epoch", std::to_string(o.epoch)},
                      {"lr", std::to_string(o.lr)},
                      {"dim", std::to_string(o.dim)},
                      {"word_ngrams", std::to_string(o.word_ngrams)},
                      {"bucket", std::to_string(o.bucket)},
                      {"threads", std::to_string(o.threads)},
                      {"seed", std::to_string(o.seed)},
                      {"calibration_fraction", std::to_string(o.calibration_fraction)},
                      {"loss", "softmax"},
                      {"preprocessing", "NormalizeText (lowercase, punctuation split)"}};
  std::vector<Metric> metrics;
  for (const auto& [epoch, loss] : r.epoch_loss)
    metrics.push_back({"train_loss", loss, end, epoch});
  metrics.push_back({"train_rows", static_cast<double>(r.train_rows), end, 0});
  metrics.push_back({"labels", static_cast<double>(r.labels), end, 0});
  metrics.push_back({"train_seconds", r.train_seconds, end, 0});
  metrics.push_back({"temperature", r.temperature, end, 0});
  metrics.push_back({"calibration_rows", static_cast<double>(r.calibration_rows), end, 0});
  if (r.ece_before) metrics.push_back({"ece_before_calibration", *r.ece_before, end, 0});
  if (r.ece_after) metrics.push_back({"ece_after_calibration", *r.ece_after, end, 0});
  if (r.validation_accuracy) {
    metrics.push_back({"validation_accuracy", *r.validation_accuracy, end, 0});
    metrics.push_back({"validation_rows", static_cast<double>(r.validation_rows), end, 0});
  }
  KeyValues tags = {{"data.sha256", r.data_sha256},
                    {"data.rows", std::to_string(r.train_rows)},
                    {"seed", std::to_string(o.seed)},
                    {"model.path", r.model_path},
                    {"closedloop.version", CLOSEDLOOP_VERSION},
                    {"closedloop.git_commit", CLOSEDLOOP_GIT_COMMIT},
                    {"library.fasttext", "0.9.2"}};
  RETURN_IF_ERROR(store.LogBatch(run.run_id, metrics, params, tags));
  RETURN_IF_ERROR(store.UpdateRun(run.run_id, std::string("FINISHED"), end, std::nullopt).status());
  return run.run_id;
}

}  // namespace closedloop
