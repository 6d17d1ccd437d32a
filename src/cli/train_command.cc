#include <iostream>

#include <filesystem>
#include "cli/commands.h"

#include "learn/text_trainer.h"
#include "learn/training_run_log.h"

namespace closedloop {

void AddTrainCommand(CLI::App& app, int& exit_code) {
  auto o = std::make_shared<TextTrainOptions>();
  auto data_dir = std::make_shared<std::string>("./closedloop-data");
  auto experiment = std::make_shared<std::string>();
  auto no_tracking = std::make_shared<bool>(false);
  CLI::App* train = app.add_subcommand("train", "Train a model");
  train->require_subcommand(1);
  CLI::App* text = train->add_subcommand(
      "text", "fastText text classifier from CSV; writes a model version directory");
  text->add_option("--input", o->input, "Training CSV (with a header)")
      ->required()
      ->check(CLI::ExistingFile);
  text->add_option("--validation", o->validation_input, "Validation CSV, same columns")
      ->check(CLI::ExistingFile);
  text->add_option("--text-col", o->text_col, "Text column")->capture_default_str();
  text->add_option("--label-col", o->label_col, "Label column")->capture_default_str();
  text->add_option("--output", o->output_dir, "Output directory, e.g. models/NAME/1")->required();
  text->add_option("--epoch", o->epoch)->capture_default_str()->check(CLI::Range(1, 1000));
  text->add_option("--lr", o->lr)->capture_default_str()->check(CLI::Range(0.0001, 10.0));
  text->add_option("--dim", o->dim)->capture_default_str()->check(CLI::Range(2, 1000));
  text->add_option("--word-ngrams", o->word_ngrams)->capture_default_str()->check(CLI::Range(1, 5));
  text->add_option("--bucket", o->bucket)->capture_default_str()->check(CLI::Range(0, 10000000));
  text->add_option("--threads", o->threads, "0: number of cores")->capture_default_str();
  text->add_option("--seed", o->seed)->capture_default_str();
  text->add_option("--top-k", o->top_k)->capture_default_str()->check(CLI::Range(1, 1000));
  text->add_flag("--verbose", o->verbose, "fastText progress on stderr");
  text->add_option("--calibration-fraction", o->calibration_fraction,
                   "Share of each label held out to fit the temperature (0: no calibration)")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 0.5));
  text->add_option("--data-dir", *data_dir, "Log the run into <data-dir>/tracking.db")
      ->capture_default_str();
  text->add_option("--experiment", *experiment,
                   "Tracking experiment (default: the model name, from --output models/NAME/N)");
  text->add_flag("--no-tracking", *no_tracking, "Do not log the run");
  text->callback([o, data_dir, experiment, no_tracking, &exit_code] {
    auto r = TrainTextClassifier(*o);
    if (!r.ok()) {
      std::cerr << "closedloop train text: " << r.status().message() << "\n";
      exit_code = 1;
      return;
    }
    std::cout << "model: " << r->model_path << "\n"
              << "train_rows: " << r->train_rows << "\nlabels: " << r->labels << "\n";
    std::cout << "calibration_rows: " << r->calibration_rows << "\ntemperature: " << r->temperature
              << "\n";
    if (r->validation_accuracy) {
      std::cout << "validation_rows: " << r->validation_rows
                << "\nvalidation_accuracy: " << *r->validation_accuracy << "\n";
    }
    if (r->ece_before && r->ece_after) {
      std::cout << "ece_before: " << *r->ece_before << "\nece_after: " << *r->ece_after << "\n";
    }
    if (*no_tracking) return;
    std::string name = *experiment;
    if (name.empty()) {
      auto parent = std::filesystem::path(o->output_dir).lexically_normal().parent_path();
      name = parent.filename().empty() ? "Default" : parent.filename().string();
    }
    std::filesystem::create_directories(*data_dir);
    auto store = TrackingStore::OpenInDataDir(*data_dir, SystemClock::Get());
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
