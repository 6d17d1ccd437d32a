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
  auto join = [](const std::vector<std::string>& v) {
    std::string out;
    for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
    return out;
  };
  KeyValues params = {{"input", join(o.inputs)},
                      {"validation", o.validation_inputs.empty()
                                         ? "stratified " + std::to_string(o.validation_fraction)
                                         : join(o.validation_inputs)},
                      {"test", o.test_inputs.empty()
                                   ? (o.test_fraction > 0
                                          ? "stratified " + std::to_string(o.test_fraction)
                                          : "")
                                   : join(o.test_inputs)},
                      {"text_col", o.text_col},
                      {"label_col", o.label_col},
                      {"epoch", std::to_string(r.epoch)},
                      {"lr", std::to_string(r.lr)},
                      {"dim", std::to_string(r.dim)},
                      {"word_ngrams", std::to_string(r.word_ngrams)},
                      {"minn", std::to_string(r.minn)},
                      {"maxn", std::to_string(r.maxn)},
                      {"bucket", std::to_string(r.bucket)},
                      {"threads", std::to_string(o.threads)},
                      {"seed", std::to_string(o.seed)},
                      {"autotune_seconds", std::to_string(o.autotune_seconds)},
                      {"quantize", o.quantize ? "true" : "false"},
                      {"calibrate", o.calibrate ? "true" : "false"},
                      {"loss", "softmax"},
                      {"preprocessing", "NormalizeText (lowercase, punctuation split)"}};
  std::vector<Metric> metrics;
  for (const auto& [epoch, loss] : r.epoch_loss)
    metrics.push_back({"train_loss", loss, end, epoch});
  auto add = [&](const std::string& key, double v) { metrics.push_back({key, v, end, 0}); };
  add("train_rows", static_cast<double>(r.train_rows));
  add("labels", static_cast<double>(r.labels));
  add("train_seconds", r.train_seconds);
  add("temperature", r.temperature);
  add("ece_before_calibration", r.ece_before);
  add("ece_after_calibration", r.ece_after);
  add("model_bytes", static_cast<double>(r.model_bytes));
  auto add_report = [&](const std::string& prefix, const EvaluationReport& e) {
    add(prefix + "_rows", static_cast<double>(e.rows));
    add(prefix + "_accuracy", e.accuracy);
    add(prefix + "_macro_f1", e.macro_f1);
    add(prefix + "_log_loss", e.log_loss);
    add(prefix + "_ece", e.ece);
    if (e.roc_auc) add(prefix + "_roc_auc", *e.roc_auc);
  };
  add_report("validation", r.validation);
  if (r.test) add_report("test", *r.test);
  if (r.size_before_quantize) add("size_before_quantize", static_cast<double>(*r.size_before_quantize));
  if (r.size_after_quantize) add("size_after_quantize", static_cast<double>(*r.size_after_quantize));
  if (r.accuracy_before_quantize) add("accuracy_before_quantize", *r.accuracy_before_quantize);
  if (r.accuracy_after_quantize) add("accuracy_after_quantize", *r.accuracy_after_quantize);
  KeyValues tags = {{"data.sha256", r.data_sha256},
                    {"data.rows", std::to_string(r.train_rows)},
                    {"seed", std::to_string(o.seed)},
                    {"model.path", r.model_path},
                    {"model.flavor", "fasttext"},
                    {"closedloop.version", CLOSEDLOOP_VERSION},
                    {"closedloop.git_commit", CLOSEDLOOP_GIT_COMMIT},
                    {"library.fasttext", "0.9.2"}};
  RETURN_IF_ERROR(store.LogBatch(run.run_id, metrics, params, tags));
  RETURN_IF_ERROR(store.UpdateRun(run.run_id, std::string("FINISHED"), end, std::nullopt).status());
  return run.run_id;
}

}  // namespace closedloop
