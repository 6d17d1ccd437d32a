#include "learn/demo_bootstrap.h"

#include <unistd.h>

#include <filesystem>

#include "core/logging.h"
#include "learn/image_trainer.h"
#include "learn/register_training.h"
#include "learn/text_trainer.h"
#include "learn/training_run_log.h"

namespace closedloop {
namespace fs = std::filesystem;

namespace {

struct DemoSpec {
  std::string name;
  std::string description;
  TextTrainOptions options;
};

std::vector<DemoSpec> DemoSpecs(const std::string& examples_dir) {
  std::vector<DemoSpec> specs;
  DemoSpec intent;
  intent.name = "support-intent";
  intent.description =
      "Classifies a customer-support inquiry of a bank's customers into one of 77 intents "
      "(Banking77), so that it can be answered automatically or escalated to a person.";
  intent.options.inputs = {examples_dir + "/data/train.csv"};
  intent.options.test_inputs = {examples_dir + "/data/test.csv"};
  intent.options.label_col = "category";
  specs.push_back(std::move(intent));

  DemoSpec sentiment;
  sentiment.name = "comment-sentiment";
  sentiment.description =
      "Tells whether a customer's comment is negative or positive (Sentiment Labelled "
      "Sentences: product, restaurant reviews); its probabilities score feedback comments.";
  TextTrainOptions& s = sentiment.options;
  s.inputs = {examples_dir + "/data/sentiment/amazon_cells_labelled.txt",
              examples_dir + "/data/sentiment/yelp_labelled.txt"};
  s.format = TableFormat::kTsv;
  s.text_col = "sentence";
  s.label_col = "score";
  s.label_names = {{"0", "negative"}, {"1", "positive"}};
  s.test_fraction = 0.2;
  s.validation_fraction = 0.15;
  s.epoch = 25;  // 2,000 short sentences: more epochs only over-fit
  s.lr = 0.5;
  s.dim = 50;
  s.top_k = 2;
  specs.push_back(std::move(sentiment));
  return specs;
}

}  // namespace

StatusOr<std::vector<DemoModel>> EnsureDemoModels(ModelRegistry& registry, TrackingStore& runs,
                                                  const std::string& examples_dir,
                                                  const std::string& data_dir) {
  std::vector<DemoModel> out;
  std::error_code ec;
  fs::create_directories(registry.repository(), ec);
  if (ec) {
    return Internal("cannot create model repository '" + registry.repository() +
                    "': " + ec.message());
  }
  for (DemoSpec& spec : DemoSpecs(examples_dir)) {
    DemoModel m{spec.name, false};
    if (registry.GetRegisteredModel(spec.name).ok() ||
        fs::exists(fs::path(registry.repository()) / spec.name, ec)) {
      out.push_back(m);  // never overwrite: a second start reuses it
      continue;
    }
    std::string staging = data_dir + "/staging/" + spec.name + "-" + std::to_string(getpid());
    spec.options.output_dir = staging;
    spec.options.overwrite = true;
    spec.options.progress = ProgressMode::kNever;
    LogInfo("training a demo model").Kv("model", spec.name).Kv("data", spec.options.inputs[0]);
    auto result = TrainTextClassifier(spec.options);
    if (!result.ok()) return result.status().WithContext("training the demo model " + spec.name);
    auto registered =
        LogAndRegister(runs, registry, spec.name, staging, TextRunRecord(spec.options, *result),
                       spec.description, "champion", SystemClock::Get());
    fs::remove_all(staging, ec);
    if (!registered.ok()) {
      return registered.status().WithContext("registering the demo model " + spec.name);
    }
    LogInfo("demo model ready")
        .Kv("model", spec.name)
        .Kv("version", registered->version.version)
        .Kv("train_rows", static_cast<uint64_t>(result->train_rows))
        .Kv("test_accuracy", result->test ? result->test->accuracy : -1)
        .Kv("train_seconds", result->train_seconds)
        .Kv("run_id", registered->run_id);
    m.trained = true;
    out.push_back(m);
  }
  // The image model: digits from the 8x8 digits file of Debian's python3-sklearn
  // (E. Alpaydin and C. Kaynak, UCI Optical Recognition of Handwritten Digits),
  // when the package is installed; the demo runs without it otherwise.
  const std::string digits = kDigitsFile;
  if (!registry.GetRegisteredModel("digit-images").ok() &&
      !fs::exists(fs::path(registry.repository()) / "digit-images", ec) && fs::exists(digits, ec)) {
    ImageTrainOptions o;
    o.input = digits;
    o.pixel_max = 16;
    o.epochs = 40;
    o.seed = 3;
    o.output_dir = data_dir + "/staging/digit-images-" + std::to_string(getpid());
    o.overwrite = true;
    LogInfo("training a demo model").Kv("model", "digit-images").Kv("data", digits);
    auto result = TrainImageClassifier(o);
    if (!result.ok()) return result.status().WithContext("training the demo model digit-images");
    auto registered = LogAndRegister(
        runs, registry, "digit-images", o.output_dir, ImageRunRecord(o, *result),
        "Reads a handwritten digit from an 8x8 grey image (POST /v1/inference with an "
        "[8][8][1] pixel array or a PNG/JPEG).",
        "champion", SystemClock::Get());
    fs::remove_all(o.output_dir, ec);
    if (!registered.ok()) {
      return registered.status().WithContext("registering the demo model digit-images");
    }
    LogInfo("demo model ready")
        .Kv("model", "digit-images")
        .Kv("version", registered->version.version)
        .Kv("test_accuracy", result->test ? result->test->accuracy : -1)
        .Kv("train_seconds", result->train_seconds);
    out.push_back({"digit-images", true});
  } else if (fs::exists(fs::path(registry.repository()) / "digit-images", ec)) {
    out.push_back({"digit-images", false});
  }
  fs::remove(data_dir + "/staging", ec);  // only when empty
  return out;
}

}  // namespace closedloop
