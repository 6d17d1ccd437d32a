#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "learn/text_trainer.h"
#include "learn/training_run_log.h"

namespace closedloop {

namespace {

// Options shared by `train text` and `train tabular`: where the run is logged.
struct TrackingFlags {
  std::string data_dir = "./closedloop-data";
  std::string experiment;
  bool no_tracking = false;

  void Add(CLI::App* cmd) {
    cmd->add_option("--data-dir", data_dir, "Log the run into <data-dir>/tracking.db")
        ->capture_default_str();
    cmd->add_option("--experiment", experiment,
                    "Tracking experiment (default: the model name, from --output models/NAME/N)");
    cmd->add_flag("--no-tracking", no_tracking, "Do not log the run");
  }
  std::string ExperimentFor(const std::string& output_dir) const {
    if (!experiment.empty()) return experiment;
    auto parent = std::filesystem::path(output_dir).lexically_normal().parent_path();
    return parent.filename().empty() ? "Default" : parent.filename().string();
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

}  // namespace

void AddTrainCommand(CLI::App& app, int& exit_code) {
  CLI::App* train = app.add_subcommand("train", "Train a model");
  train->require_subcommand(1);

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
  text->add_option("--output", o->output_dir, "Output directory, e.g. models/NAME/1")->required();
  text->add_flag("--overwrite", o->overwrite, "Replace an existing output directory");
  text->add_option("--validation-fraction", o->validation_fraction)
      ->capture_default_str()
      ->check(CLI::Range(0.01, 0.5));
  text->add_option("--test-fraction", o->test_fraction, "Stratified test split (0: none)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.5));
  text->add_option("--epoch", o->epoch)->capture_default_str()->check(CLI::Range(1, 1000));
  text->add_option("--lr", o->lr)->capture_default_str()->check(CLI::Range(0.0001, 10.0));
  text->add_option("--dim", o->dim)->capture_default_str()->check(CLI::Range(2, 1000));
  text->add_option("--word-ngrams", o->word_ngrams)->capture_default_str()->check(CLI::Range(1, 5));
  text->add_option("--minn", o->minn, "Shortest character n-gram (0: none)")
      ->capture_default_str()
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
  text->add_option("--progress", *progress, "Progress bar on stderr: auto (a terminal), always, never")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "always", "never"}));
  text->add_flag("--verbose", o->verbose, "fastText's own messages on stderr");
  tracking->Add(text);
  text->callback([o, tracking, format, progress, label_names, no_calibration, &exit_code] {
    o->format = FormatFlag(*format);
    o->progress = *progress == "always"  ? ProgressMode::kAlways
                  : *progress == "never" ? ProgressMode::kNever
                                         : ProgressMode::kAuto;
    o->calibrate = !*no_calibration;
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
    PrintReport("validation", r->validation);
    if (r->test) PrintReport("test", *r->test);
    if (r->size_before_quantize) {
      std::cout << "size_before_quantize: " << *r->size_before_quantize
                << "\nsize_after_quantize: " << *r->size_after_quantize
                << "\naccuracy_before_quantize: " << *r->accuracy_before_quantize
                << "\naccuracy_after_quantize: " << *r->accuracy_after_quantize << "\n";
    }
    if (tracking->no_tracking) return;
    std::string name = tracking->ExperimentFor(o->output_dir);
    std::filesystem::create_directories(tracking->data_dir);
    auto store = TrackingStore::OpenInDataDir(tracking->data_dir, SystemClock::Get());
    auto run = store.ok() ? LogTextTrainingRun(**store, name, *o, *r, SystemClock::Get())
                          : StatusOr<std::string>(store.status());
    if (!run.ok()) {
      std::cerr << "closedloop train text: model written, but the run was not logged: "
                << run.status().message() << "\n";
      exit_code = 1;
      return;
    }
    std::cout << "experiment: " << name << "\nrun_id: " << *run << "\n";
  });
}

}  // namespace closedloop
