#include <unistd.h>

#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "learn/image_trainer.h"
#include "learn/register_training.h"
#include "learn/tabular_trainer.h"
#include "learn/text_trainer.h"
#include "learn/training_run_log.h"

namespace closedloop {

namespace {

// Options shared by `train text` and `train tabular`: where the run is logged
// and, with --register, which registered model gets the result as a new version.
struct TrackingFlags {
  std::string data_dir = "./closedloop-data";
  std::string experiment;
  bool no_tracking = false;
  std::string register_as;
  std::string alias;
  std::string description;
  std::string model_repository;  // default: <data-dir>/models

  void Add(CLI::App* cmd) {
    cmd->add_option("--data-dir", data_dir, "Log the run into <data-dir>/tracking.db")
        ->capture_default_str();
    cmd->add_option("--experiment", experiment, "Tracking experiment (default: the model name)");
    cmd->add_flag("--no-tracking", no_tracking, "Do not log the run");
    cmd->add_option("--register", register_as,
                    "Register the model as the next version of this registered model (moved "
                    "into <data-dir>/models/NAME/N)");
    cmd->add_option("--alias", alias, "With --register: point this alias at the new version");
    cmd->add_option("--description", description, "With --register: the version's description");
    cmd->add_option("--model-repository", model_repository,
                    "With --register: the model repository (default: <data-dir>/models)");
  }
  // Checks the flag combination and fills the output dir when registering.
  bool Prepare(std::string& output_dir, const char* cmd) {
    if (register_as.empty()) {
      if (output_dir.empty()) {
        std::cerr << "closedloop " << cmd << ": give --output DIR or --register NAME\n";
        return false;
      }
      if (!alias.empty()) {
        std::cerr << "closedloop " << cmd << ": --alias needs --register\n";
        return false;
      }
      return true;
    }
    if (no_tracking) {
      std::cerr << "closedloop " << cmd << ": --register records the run; drop --no-tracking\n";
      return false;
    }
    if (Status s = ValidateModelName(register_as); !s.ok()) {
      std::cerr << "closedloop " << cmd << ": --register: " << s.message() << "\n";
      return false;
    }
    if (!alias.empty()) {
      if (Status s = ValidateAliasName(alias); !s.ok()) {
        std::cerr << "closedloop " << cmd << ": --alias: " << s.message() << "\n";
        return false;
      }
    }
    if (output_dir.empty()) {
      output_dir = data_dir + "/staging/" + register_as + "-" + std::to_string(getpid());
    }
    return true;
  }
  std::string ExperimentFor(const std::string& output_dir) const {
    if (!experiment.empty()) return experiment;
    if (!register_as.empty()) return register_as;
    auto parent = std::filesystem::path(output_dir).lexically_normal().parent_path();
    return parent.filename().empty() ? "Default" : parent.filename().string();
  }
  // Logs the run (and registers the model); prints what it did. Returns the exit code.
  int Finish(const std::string& output_dir, TrainingRunRecord record, const char* cmd) {
    if (no_tracking) return 0;
    std::filesystem::create_directories(data_dir);
    auto runs = TrackingStore::OpenInDataDir(data_dir, SystemClock::Get());
    if (!runs.ok()) {
      std::cerr << "closedloop " << cmd
                << ": model written, but the run was not logged: " << runs.status().message()
                << "\n";
      return 1;
    }
    std::string experiment_name = ExperimentFor(output_dir);
    if (register_as.empty()) {
      auto run = LogTrainingRun(**runs, experiment_name, std::move(record), SystemClock::Get());
      if (!run.ok()) {
        std::cerr << "closedloop " << cmd
                  << ": model written, but the run was not logged: " << run.status().message()
                  << "\n";
        return 1;
      }
      std::cout << "experiment: " << experiment_name << "\nrun_id: " << *run << "\n";
      return 0;
    }
    std::string repo = model_repository.empty() ? data_dir + "/models" : model_repository;
    auto registry = ModelRegistry::OpenInDataDir(data_dir, repo, SystemClock::Get());
    auto done = registry.ok()
                    ? LogAndRegister(**runs, **registry, register_as, output_dir, std::move(record),
                                     description, alias, SystemClock::Get())
                    : StatusOr<RegisteredTraining>(registry.status());
    std::error_code ec;
    std::filesystem::remove_all(output_dir, ec);  // moved away when registered
    std::filesystem::remove(data_dir + "/staging", ec);
    if (!done.ok()) {
      std::cerr << "closedloop " << cmd << ": not registered: " << done.status().message() << "\n";
      return 1;
    }
    std::cout << "experiment: " << experiment_name << "\nrun_id: " << done->run_id
              << "\nregistered_model: " << register_as << "\nversion: " << done->version.version
              << "\nstorage_path: " << done->version.storage_path << "\n";
    if (!alias.empty()) std::cout << "alias: " << alias << "\n";
    return 0;
  }
};

TableFormat FormatFlag(const std::string& s) {
  auto f = ParseTableFormat(s);
  return f.ok() ? *f : TableFormat::kAuto;  // CLI11's check rejected anything else
}

void PrintReport(const char* name, const EvaluationReport& e) {
  std::cout << name << "_rows: " << e.rows << "\n"
            << name << "_accuracy: " << e.accuracy << "\n"
            << name << "_macro_f1: " << e.macro_f1 << "\n"
            << name << "_log_loss: " << e.log_loss << "\n";
  if (e.roc_auc) std::cout << name << "_roc_auc: " << *e.roc_auc << "\n";
  std::cout << name << "_ece: " << e.ece << "\n";
}

void AddTrainTabular(CLI::App* train, int& exit_code) {
  auto o = std::make_shared<TabularTrainOptions>();
  auto tracking = std::make_shared<TrackingFlags>();
  auto format = std::make_shared<std::string>("auto");
  auto weights = std::make_shared<std::vector<std::string>>();
  CLI::App* tab =
      train->add_subcommand("tabular", "XGBoost classifier from CSV/TSV/JSONL with a label column");
  tab->add_option("--input", o->inputs, "Training file(s), same columns (repeatable)")
      ->required()
      ->check(CLI::ExistingFile);
  tab->add_option("--validation", o->validation_inputs,
                  "Validation file(s) (default: a stratified --validation-fraction of the input)")
      ->check(CLI::ExistingFile);
  tab->add_option("--test", o->test_inputs, "Test file(s), only evaluated")
      ->check(CLI::ExistingFile);
  tab->add_option("--format", *format, "csv, tsv, jsonl or auto (from the file name)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "csv", "tsv", "jsonl"}));
  tab->add_option("--label-col", o->label_col, "Label column")->capture_default_str();
  tab->add_option("--ignore-col", o->ignore_cols, "A column that is not a feature (repeatable)");
  tab->add_option("--categorical", o->categorical_cols,
                  "Treat this column as categorical even if numeric (repeatable)");
  tab->add_option("--output", o->output_dir, "Output directory, e.g. models/NAME/1");
  tab->add_flag("--overwrite", o->overwrite, "Replace an existing output directory");
  tab->add_option("--validation-fraction", o->validation_fraction)
      ->capture_default_str()
      ->check(CLI::Range(0.01, 0.5));
  tab->add_option("--test-fraction", o->test_fraction, "Stratified test split (0: none)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.5));
  tab->add_option("--class-weight", o->class_weight, "none or balanced")
      ->capture_default_str()
      ->check(CLI::IsMember({"none", "balanced"}));
  tab->add_option("--label-weight", *weights, "Weight of one label: LABEL=W (repeatable)");
  tab->add_option("--max-rounds", o->max_rounds)
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  tab->add_option("--early-stopping-rounds", o->early_stopping_rounds)
      ->capture_default_str()
      ->check(CLI::Range(1, 100000));
  tab->add_option("--max-depth", o->max_depth)->capture_default_str()->check(CLI::Range(1, 32));
  tab->add_option("--eta", o->eta)->capture_default_str()->check(CLI::Range(0.0001, 1.0));
  tab->add_option("--subsample", o->subsample)->capture_default_str()->check(CLI::Range(0.05, 1.0));
  tab->add_option("--threads", o->threads, "0: number of cores")->capture_default_str();
  tab->add_option("--seed", o->seed)->capture_default_str();
  tracking->Add(tab);
  tab->callback([o, tracking, format, weights, &exit_code] {
    o->format = FormatFlag(*format);
    for (const auto& m : *weights) {
      auto eq = m.find('=');
      char* end = nullptr;
      double w = eq == std::string::npos ? 0 : std::strtod(m.c_str() + eq + 1, &end);
      if (eq == std::string::npos || eq == 0 || end == nullptr || *end != '\0' || !(w > 0)) {
        std::cerr << "closedloop train tabular: --label-weight '" << m
                  << "' is not LABEL=W with W > 0\n";
        exit_code = 2;
        return;
      }
      o->class_weights[m.substr(0, eq)] = w;
    }
    if (!tracking->Prepare(o->output_dir, "train tabular")) {
      exit_code = 2;
      return;
    }
    auto r = TrainTabularClassifier(*o);
    if (!r.ok()) {
      std::cerr << "closedloop train tabular: " << r.status().message() << "\n";
      exit_code = 1;
      return;
    }
    std::cout << "model: " << r->model_path << "\nmodel_bytes: " << r->model_bytes
              << "\ntrain_rows: " << r->train_rows << "\nlabels: " << r->labels.size()
              << "\nfeatures: " << r->features.size() << "\ncategorical:";
    for (const auto& [name, values] : r->categories) {
      std::cout << " " << name << "(" << values.size() << ")";
    }
    std::cout << "\nrounds: " << r->rounds << "\nbest_iteration: " << r->best_iteration
              << "\ntrain_seconds: " << r->train_seconds << "\n";
    PrintReport("validation", r->validation);
    if (r->test) PrintReport("test", *r->test);
    exit_code = tracking->Finish(o->output_dir, TabularRunRecord(*o, *r), "train tabular");
  });
}

void AddTrainImage(CLI::App* train, int& exit_code) {
  auto o = std::make_shared<ImageTrainOptions>();
  auto tracking = std::make_shared<TrackingFlags>();
  CLI::App* img = train->add_subcommand(
      "image", "Image classifier (ONNX) from a CSV of pixel rows or a folder of label folders");
  img->add_option("--input", o->input,
                  "A CSV (or .csv.gz) of pixel rows, or a folder with one folder of PNG/JPEG "
                  "files per label")
      ->required()
      ->check(CLI::ExistingPath);
  img->add_option("--label-col", o->label_col, "CSV with a header: the label column")
      ->capture_default_str();
  img->add_option("--width", o->width, "Image width (CSV default: square)")
      ->check(CLI::Range(1, 4096));
  img->add_option("--height", o->height, "Image height")->check(CLI::Range(1, 4096));
  img->add_option("--channels", o->channels, "1 (grey) or 3 (RGB)")
      ->capture_default_str()
      ->check(CLI::IsMember({1, 3}));
  img->add_option("--pixel-max", o->pixel_max, "CSV: the value of a white pixel (16 for digits)")
      ->capture_default_str()
      ->check(CLI::Range(1.0, 1e9));
  img->add_option("--output", o->output_dir, "Output directory, e.g. models/NAME/1");
  img->add_flag("--overwrite", o->overwrite, "Replace an existing output directory");
  img->add_option("--hidden", o->hidden)->capture_default_str()->check(CLI::Range(2, 4096));
  img->add_option("--epochs", o->epochs)->capture_default_str()->check(CLI::Range(1, 10000));
  img->add_option("--batch-size", o->batch_size)->capture_default_str()->check(CLI::Range(1, 4096));
  img->add_option("--learning-rate", o->learning_rate)
      ->capture_default_str()
      ->check(CLI::Range(1e-6, 1.0));
  img->add_option("--validation-fraction", o->validation_fraction)
      ->capture_default_str()
      ->check(CLI::Range(0.01, 0.5));
  img->add_option("--test-fraction", o->test_fraction, "Stratified test split (0: none)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.5));
  img->add_option("--thumbnail-px", o->thumbnail_px,
                  "Longest side of the thumbnail logged with each prediction (0: none)")
      ->capture_default_str()
      ->check(CLI::Range(0, 256));
  img->add_option("--seed", o->seed)->capture_default_str();
  tracking->Add(img);
  img->callback([o, tracking, &exit_code] {
    if (!tracking->Prepare(o->output_dir, "train image")) {
      exit_code = 2;
      return;
    }
    auto r = TrainImageClassifier(*o);
    if (!r.ok()) {
      std::cerr << "closedloop train image: " << r.status().message() << "\n";
      exit_code = 1;
      return;
    }
    std::cout << "model: " << r->model_path << "\nmodel_bytes: " << r->model_bytes
              << "\nimage: " << r->width << "x" << r->height << "x" << r->channels
              << "\ntrain_rows: " << r->train_rows << "\nlabels: " << r->labels.size()
              << "\nbest_epoch: " << r->best_epoch << "\ntrain_seconds: " << r->train_seconds
              << "\n";
    PrintReport("validation", r->validation);
    if (r->test) PrintReport("test", *r->test);
    exit_code = tracking->Finish(o->output_dir, ImageRunRecord(*o, *r), "train image");
  });
}

}  // namespace

void AddTrainCommand(CLI::App& app, int& exit_code) {
  CLI::App* train = app.add_subcommand("train", "Train a model");
  train->require_subcommand(1);
  AddTrainTabular(train, exit_code);
  AddTrainImage(train, exit_code);

  auto o = std::make_shared<TextTrainOptions>();
  auto tracking = std::make_shared<TrackingFlags>();
  auto format = std::make_shared<std::string>("auto");
  auto progress = std::make_shared<std::string>("auto");
  auto label_names = std::make_shared<std::vector<std::string>>();
  auto no_calibration = std::make_shared<bool>(false);
  CLI::App* text = train->add_subcommand(
      "text", "fastText text classifier from CSV/TSV/JSONL; writes a model version directory");
  text->add_option("--input", o->inputs, "Training file(s), same columns (repeatable)")
      ->required()
      ->check(CLI::ExistingFile);
  text->add_option("--validation", o->validation_inputs,
                   "Validation file(s) (default: a stratified --validation-fraction of the input)")
      ->check(CLI::ExistingFile);
  text->add_option("--test", o->test_inputs, "Test file(s), only evaluated")
      ->check(CLI::ExistingFile);
  text->add_option("--format", *format, "csv, tsv, jsonl or auto (from the file name)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "csv", "tsv", "jsonl"}));
  text->add_option("--text-col", o->text_col, "Text column")->capture_default_str();
  text->add_option("--label-col", o->label_col, "Label column")->capture_default_str();
  text->add_option("--label-name", *label_names, "Rename a label: FROM=TO (repeatable)");
  text->add_option("--output", o->output_dir, "Output directory, e.g. models/NAME/1");
  text->add_flag("--overwrite", o->overwrite, "Replace an existing output directory");
  text->add_option("--validation-fraction", o->validation_fraction)
      ->capture_default_str()
      ->check(CLI::Range(0.01, 0.5));
  text->add_option("--test-fraction", o->test_fraction, "Stratified test split (0: none)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.5));
  text->add_option("--model", o->model,
                   "fasttext, or mlp: a neural head over TF-IDF word and character n-grams")
      ->capture_default_str()
      ->check(CLI::IsMember({"fasttext", "mlp"}));
  text->add_option("--epoch", o->epoch, "fastText epochs")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  CLI::Option* lr_opt =
      text->add_option("--lr", o->lr, "Learning rate (default: 0.8 fastText, 0.002 mlp)")
          ->check(CLI::Range(0.00001, 10.0));
  CLI::Option* minn_opt = nullptr;
  text->add_option("--hidden", o->mlp.hidden, "mlp: hidden units")
      ->capture_default_str()
      ->check(CLI::Range(1, 8192));
  text->add_option("--dropout", o->mlp.dropout, "mlp: dropout on the hidden layer")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.95));
  text->add_option("--weight-decay", o->mlp.weight_decay, "mlp: decoupled weight decay (AdamW)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  text->add_option("--batch-size", o->mlp.batch_size, "mlp: rows per Adam step")
      ->capture_default_str()
      ->check(CLI::Range(1, 65536));
  text->add_option("--max-epochs", o->mlp.max_epochs, "mlp: epochs at most (early stopping)")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  text->add_option("--patience", o->mlp.patience,
                   "mlp: epochs without a better validation accuracy before stopping")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000));
  text->add_option("--ensemble", o->mlp.ensemble, "mlp: members whose averaged probabilities serve")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  text->add_flag("--bagging", o->mlp.bagging, "mlp: each member trains on a bootstrap sample");
  text->add_option("--oos-score", o->oos_score,
                   "Out-of-scope score the fitted threshold applies to")
      ->capture_default_str()
      ->check(CLI::IsMember({"max_probability", "max_logit", "energy"}));
  text->add_option("--oos-keep", o->oos_keep,
                   "Share of in-scope validation inquiries the out-of-scope threshold keeps "
                   "(0: no threshold)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1.0));
  text->add_option("--fine-tune-from", o->fine_tune_from,
                   "mlp: continue training this mlp version directory's model on --input "
                   "(continual learning) instead of starting from scratch")
      ->check(CLI::ExistingDirectory);
  text->add_option("--replay", o->replay_inputs,
                   "mlp fine-tuning: old training data to rehearse (repeatable)");
  text->add_option("--replay-size", o->replay_size,
                   "mlp fine-tuning: old rows rehearsed beside the new ones")
      ->capture_default_str()
      ->check(CLI::Range(int64_t{0}, int64_t{10000000}));
  text->add_option("--ewc", o->ewc_lambda,
                   "mlp fine-tuning: strength of the EWC penalty toward the old weights (0: off)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 1e9));
  text->add_option("--min-df", o->min_df, "mlp: texts an n-gram must occur in to be a feature")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  text->add_option("--dim", o->dim)->capture_default_str()->check(CLI::Range(2, 1000));
  text->add_option("--word-ngrams", o->word_ngrams)->capture_default_str()->check(CLI::Range(1, 5));
  minn_opt = text->add_option("--minn", o->minn,
                              "Shortest character n-gram (0: none; default 3 fastText, 2 mlp)")
                 ->check(CLI::Range(0, 10));
  text->add_option("--maxn", o->maxn, "Longest character n-gram (0: none)")
      ->capture_default_str()
      ->check(CLI::Range(0, 10));
  text->add_option("--bucket", o->bucket)->capture_default_str()->check(CLI::Range(0, 10000000));
  text->add_option("--threads", o->threads, "0: number of cores")->capture_default_str();
  text->add_option("--seed", o->seed)->capture_default_str();
  text->add_option("--top-k", o->top_k)->capture_default_str()->check(CLI::Range(1, 1000));
  text->add_option("--autotune-duration", o->autotune_seconds,
                   "Seconds of fastText autotune on the validation data (0: off)")
      ->capture_default_str()
      ->check(CLI::Range(0, 86400));
  text->add_flag("--quantize", o->quantize,
                 "Product-quantize the model (model.ftz); reports size and accuracy before/after");
  text->add_flag("--no-calibration", *no_calibration, "Keep temperature 1");
  text->add_option("--progress", *progress,
                   "Progress bar on stderr: auto (a terminal), always, never")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "always", "never"}));
  text->add_flag("--verbose", o->verbose, "fastText's own messages on stderr");
  tracking->Add(text);
  text->callback([o, tracking, format, progress, label_names, no_calibration, lr_opt, minn_opt,
                  &exit_code] {
    o->format = FormatFlag(*format);
    if (o->model == "mlp") {
      if (lr_opt->count() > 0) o->mlp.learning_rate = static_cast<float>(o->lr);
      if (minn_opt->count() == 0) o->minn = 2;
    }
    o->progress = *progress == "always"  ? ProgressMode::kAlways
                  : *progress == "never" ? ProgressMode::kNever
                                         : ProgressMode::kAuto;
    o->calibrate = !*no_calibration;
    if (!tracking->Prepare(o->output_dir, "train text")) {
      exit_code = 2;
      return;
    }
    for (const auto& m : *label_names) {
      auto eq = m.find('=');
      if (eq == std::string::npos || eq == 0 || eq + 1 == m.size()) {
        std::cerr << "closedloop train text: --label-name '" << m << "' is not FROM=TO\n";
        exit_code = 2;
        return;
      }
      o->label_names[m.substr(0, eq)] = m.substr(eq + 1);
    }
    auto r = TrainTextClassifier(*o);
    if (!r.ok()) {
      std::cerr << "closedloop train text: " << r.status().message() << "\n";
      exit_code = 1;
      return;
    }
    std::cout << "model: " << r->model_path << "\nmodel_bytes: " << r->model_bytes
              << "\ntrain_rows: " << r->train_rows << "\nlabels: " << r->labels
              << "\ntrain_seconds: " << r->train_seconds << "\nepoch: " << r->epoch
              << "\nlr: " << r->lr << "\ndim: " << r->dim << "\nword_ngrams: " << r->word_ngrams
              << "\nminn: " << r->minn << "\nmaxn: " << r->maxn
              << "\ntemperature: " << r->temperature << "\nece_before: " << r->ece_before
              << "\nece_after: " << r->ece_after << "\n";
    if (r->oos_threshold) {
      std::cout << "oos_score: " << o->oos_score << "\noos_threshold: " << *r->oos_threshold
                << "\n";
    }
    if (o->model == "mlp") {
      if (!o->fine_tune_from.empty()) {
        std::cout << "fine_tuned_from: " << o->fine_tune_from << "\nreplay_rows: " << r->replay_rows
                  << "\nadded_labels: " << r->added_labels << "\n";
      }
      std::cout << "features: " << r->features << "\nensemble: " << r->best_epoch.size()
                << "\nbest_epoch:";
      for (int e : r->best_epoch) std::cout << " " << e;
      std::cout << "\n";
    }
    PrintReport("validation", r->validation);
    if (r->test) PrintReport("test", *r->test);
    if (r->size_before_quantize) {
      std::cout << "size_before_quantize: " << *r->size_before_quantize
                << "\nsize_after_quantize: " << *r->size_after_quantize
                << "\naccuracy_before_quantize: " << *r->accuracy_before_quantize
                << "\naccuracy_after_quantize: " << *r->accuracy_after_quantize << "\n";
    }
    exit_code = tracking->Finish(o->output_dir, TextRunRecord(*o, *r), "train text");
  });
}

}  // namespace closedloop
