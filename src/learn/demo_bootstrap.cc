#include "learn/demo_bootstrap.h"

#include <filesystem>
#include <fstream>

#include "core/logging.h"
#include "learn/text_trainer.h"
#include "learn/training_run_log.h"

namespace closedloop {
namespace fs = std::filesystem;

Status EnsureDemoModels(const std::string& repository, const std::string& examples_dir,
                        const std::string& data_dir) {
  std::error_code ec;
  fs::create_directories(repository, ec);
  if (ec) return Internal("cannot create model repository '" + repository + "': " + ec.message());
  for (const auto& e : fs::directory_iterator(repository, ec)) {
    if (e.is_directory()) return OkStatus();  // already has models: never overwrite
  }
  TextTrainOptions o;
  o.inputs = {examples_dir + "/data/train.csv"};
  o.test_inputs = {examples_dir + "/data/test.csv"};
  o.text_col = "text";
  o.label_col = "category";
  std::string staging = repository + "/.support-intent.training";
  o.output_dir = staging + "/1";
  LogInfo("training the demo model").Kv("model", "support-intent").Kv("data", o.inputs[0]);
  auto result = TrainTextClassifier(o);
  if (!result.ok()) {
    fs::remove_all(staging, ec);
    return result.status().WithContext("training the demo model");
  }
  {
    std::ofstream aliases(staging + "/aliases.toml");
    aliases << "champion = 1\n";
  }
  auto store = TrackingStore::OpenInDataDir(data_dir, SystemClock::Get());
  if (!store.ok()) return store.status().WithContext("tracking store");
  o.output_dir = repository + "/support-intent/1";  // where it lives once published
  result->model_path = o.output_dir + "/model.bin";
  auto run = LogTextTrainingRun(**store, "support-intent", o, *result, SystemClock::Get());
  if (!run.ok()) return run.status().WithContext("logging the demo training run");
  // Publish atomically: a half-trained model is never visible under its name.
  fs::rename(staging, repository + "/support-intent", ec);
  if (ec) return Internal("cannot publish the demo model: " + ec.message());
  LogInfo("demo model ready")
      .Kv("model", "support-intent")
      .Kv("train_rows", static_cast<uint64_t>(result->train_rows))
      .Kv("labels", static_cast<uint64_t>(result->labels))
      .Kv("test_accuracy", result->test ? result->test->accuracy : -1)
      .Kv("run_id", *run);
  return OkStatus();
}

}  // namespace closedloop
