#include "learn/training_run_log.h"

#include <filesystem>

#include <xgboost/c_api.h>

#ifndef CLOSEDLOOP_GIT_COMMIT
#define CLOSEDLOOP_GIT_COMMIT "unknown"
#endif

namespace closedloop {

namespace {

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ",") + s;
  return out;
}

std::string SplitParam(const std::vector<std::string>& files, double fraction) {
  if (!files.empty()) return Join(files);
  return fraction > 0 ? "stratified " + std::to_string(fraction) : "";
}

void AddReport(std::vector<Metric>& m, const std::string& prefix, const EvaluationReport& e) {
  m.push_back({prefix + "_rows", static_cast<double>(e.rows), 0, 0});
  m.push_back({prefix + "_accuracy", e.accuracy, 0, 0});
  m.push_back({prefix + "_macro_f1", e.macro_f1, 0, 0});
  m.push_back({prefix + "_log_loss", e.log_loss, 0, 0});
  m.push_back({prefix + "_ece", e.ece, 0, 0});
  if (e.roc_auc) m.push_back({prefix + "_roc_auc", *e.roc_auc, 0, 0});
}

KeyValues LineageTags(const std::string& sha, size_t rows, int seed, const std::string& path,
                      const std::string& flavor) {
  return {{"data.sha256", sha},
          {"data.rows", std::to_string(rows)},
          {"seed", std::to_string(seed)},
          {"model.path", path},
          {"model.flavor", flavor},
          {"closedloop.version", CLOSEDLOOP_VERSION},
          {"closedloop.git_commit", CLOSEDLOOP_GIT_COMMIT}};
}

std::string RunName(const std::string& model_path) {
  return std::filesystem::path(model_path).parent_path().lexically_normal().string();
}

}  // namespace

TrainingRunRecord TextRunRecord(const TextTrainOptions& o, const TextTrainResult& r) {
  TrainingRunRecord rec;
  rec.source = "closedloop train text";
  rec.run_name = RunName(r.model_path);
  rec.train_seconds = r.train_seconds;
  rec.params = {{"input", Join(o.inputs)},
                {"validation", SplitParam(o.validation_inputs, o.validation_fraction)},
                {"test", SplitParam(o.test_inputs, o.test_fraction)},
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
  rec.params.emplace_back("model", o.model);
  if (o.model == "mlp") {
    rec.params.emplace_back("hidden", std::to_string(o.mlp.hidden));
    rec.params.emplace_back("dropout", std::to_string(o.mlp.dropout));
    rec.params.emplace_back("weight_decay", std::to_string(o.mlp.weight_decay));
    rec.params.emplace_back("batch_size", std::to_string(o.mlp.batch_size));
    rec.params.emplace_back("max_epochs", std::to_string(o.mlp.max_epochs));
    rec.params.emplace_back("ensemble", std::to_string(o.mlp.ensemble));
    rec.params.emplace_back("bagging", o.mlp.bagging ? "true" : "false");
    rec.params.emplace_back("min_df", std::to_string(o.min_df));
    if (!o.fine_tune_from.empty()) {
      rec.params.emplace_back("fine_tune_from", o.fine_tune_from);
      rec.params.emplace_back("replay_input", Join(o.replay_inputs));
      rec.params.emplace_back("replay_size", std::to_string(o.replay_size));
      rec.params.emplace_back("ewc_lambda", std::to_string(o.ewc_lambda));
    }
  }
  auto& m = rec.metrics;
  for (const auto& [epoch, loss] : r.epoch_loss) m.push_back({"train_loss", loss, 0, epoch});
  for (const auto& [epoch, acc] : r.epoch_validation_accuracy) {
    m.push_back({"validation_accuracy_epoch", acc, 0, epoch});
  }
  m.push_back({"train_rows", static_cast<double>(r.train_rows), 0, 0});
  m.push_back({"labels", static_cast<double>(r.labels), 0, 0});
  m.push_back({"train_seconds", r.train_seconds, 0, 0});
  m.push_back({"temperature", r.temperature, 0, 0});
  m.push_back({"ece_before_calibration", r.ece_before, 0, 0});
  m.push_back({"ece_after_calibration", r.ece_after, 0, 0});
  m.push_back({"model_bytes", static_cast<double>(r.model_bytes), 0, 0});
  AddReport(m, "validation", r.validation);
  if (r.test) AddReport(m, "test", *r.test);
  if (r.size_before_quantize) {
    m.push_back({"size_before_quantize", static_cast<double>(*r.size_before_quantize), 0, 0});
    m.push_back({"size_after_quantize", static_cast<double>(*r.size_after_quantize), 0, 0});
    m.push_back({"accuracy_before_quantize", *r.accuracy_before_quantize, 0, 0});
    m.push_back({"accuracy_after_quantize", *r.accuracy_after_quantize, 0, 0});
  }
  rec.tags = LineageTags(r.data_sha256, r.train_rows, o.seed, r.model_path,
                         o.model == "mlp" ? "mlp" : "fasttext");
  if (o.model != "mlp") rec.tags.emplace_back("library.fasttext", "0.9.2");
  return rec;
}

TrainingRunRecord ImageRunRecord(const ImageTrainOptions& o, const ImageTrainResult& r) {
  TrainingRunRecord rec;
  rec.source = "closedloop train image";
  rec.run_name = RunName(r.model_path);
  rec.train_seconds = r.train_seconds;
  rec.params = {{"input", o.input},
                {"size", std::to_string(r.width) + "x" + std::to_string(r.height) + "x" +
                             std::to_string(r.channels)},
                {"pixel_max", std::to_string(o.pixel_max)},
                {"hidden", std::to_string(o.hidden)},
                {"epochs", std::to_string(o.epochs)},
                {"batch_size", std::to_string(o.batch_size)},
                {"learning_rate", std::to_string(o.learning_rate)},
                {"weight_decay", std::to_string(o.weight_decay)},
                {"validation", SplitParam({}, o.validation_fraction)},
                {"test", SplitParam({}, o.test_fraction)},
                {"seed", std::to_string(o.seed)},
                {"architecture", "flatten-dense-relu-dense-softmax"}};
  auto& m = rec.metrics;
  for (const auto& [epoch, loss] : r.train_loss) m.push_back({"train_loss", loss, 0, epoch});
  for (const auto& [epoch, acc] : r.validation_accuracy) {
    m.push_back({"validation_accuracy_curve", acc, 0, epoch});
  }
  m.push_back({"train_rows", static_cast<double>(r.train_rows), 0, 0});
  m.push_back({"labels", static_cast<double>(r.labels.size()), 0, 0});
  m.push_back({"train_seconds", r.train_seconds, 0, 0});
  m.push_back({"best_epoch", static_cast<double>(r.best_epoch), 0, 0});
  m.push_back({"model_bytes", static_cast<double>(r.model_bytes), 0, 0});
  AddReport(m, "validation", r.validation);
  if (r.test) AddReport(m, "test", *r.test);
  rec.tags = LineageTags(r.data_sha256, r.train_rows, o.seed, r.model_path, "onnx");
  return rec;
}

TrainingRunRecord TabularRunRecord(const TabularTrainOptions& o, const TabularTrainResult& r) {
  TrainingRunRecord rec;
  rec.source = "closedloop train tabular";
  rec.run_name = RunName(r.model_path);
  rec.train_seconds = r.train_seconds;
  std::string weights = o.class_weight;
  for (const auto& [label, w] : o.class_weights) weights += "," + label + "=" + std::to_string(w);
  std::vector<std::string> cats;
  for (const auto& [name, values] : r.categories) cats.push_back(name);
  rec.params = {{"input", Join(o.inputs)},
                {"validation", SplitParam(o.validation_inputs, o.validation_fraction)},
                {"test", SplitParam(o.test_inputs, o.test_fraction)},
                {"label_col", o.label_col},
                {"features", Join(r.features)},
                {"categorical", Join(cats)},
                {"class_weight", weights},
                {"max_rounds", std::to_string(o.max_rounds)},
                {"early_stopping_rounds", std::to_string(o.early_stopping_rounds)},
                {"max_depth", std::to_string(o.max_depth)},
                {"eta", std::to_string(o.eta)},
                {"subsample", std::to_string(o.subsample)},
                {"threads", std::to_string(o.threads)},
                {"seed", std::to_string(o.seed)},
                {"objective", r.labels.size() == 2 ? "binary:logistic" : "multi:softprob"}};
  auto& m = rec.metrics;
  for (const auto& [round, loss] : r.validation_loss) {
    m.push_back({"validation_loss_curve", loss, 0, round});
  }
  m.push_back({"train_rows", static_cast<double>(r.train_rows), 0, 0});
  m.push_back({"labels", static_cast<double>(r.labels.size()), 0, 0});
  m.push_back({"train_seconds", r.train_seconds, 0, 0});
  m.push_back({"rounds", static_cast<double>(r.rounds), 0, 0});
  m.push_back({"best_iteration", static_cast<double>(r.best_iteration), 0, 0});
  m.push_back({"model_bytes", static_cast<double>(r.model_bytes), 0, 0});
  AddReport(m, "validation", r.validation);
  if (r.test) AddReport(m, "test", *r.test);
  rec.tags = LineageTags(r.data_sha256, r.train_rows, o.seed, r.model_path, "xgboost");
  int major = 0, minor = 0, patch = 0;
  XGBoostVersion(&major, &minor, &patch);
  rec.tags.emplace_back("library.xgboost", std::to_string(major) + "." + std::to_string(minor) +
                                               "." + std::to_string(patch));
  return rec;
}

StatusOr<std::string> LogTrainingRun(TrackingStore& store, const std::string& experiment,
                                     TrainingRunRecord rec, const Clock& clock) {
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
  int64_t start = end - static_cast<int64_t>(rec.train_seconds * 1000);
  ASSIGN_OR_RETURN(RunInfo run, store.CreateRun(experiment_id, rec.run_name, "closedloop", start,
                                                {{"mlflow.source.name", rec.source}}));
  for (auto& m : rec.metrics) m.timestamp = end;
  RETURN_IF_ERROR(store.LogBatch(run.run_id, rec.metrics, rec.params, rec.tags));
  RETURN_IF_ERROR(store.UpdateRun(run.run_id, std::string("FINISHED"), end, std::nullopt).status());
  return run.run_id;
}

}  // namespace closedloop
