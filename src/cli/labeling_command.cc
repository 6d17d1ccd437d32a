#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/logging.h"
#include "learn/labeling_report.h"
#include "store/sqlite_db.h"

namespace closedloop {

void AddLabelingCommand(CLI::App& app, int& exit_code) {
  struct Flags {
    std::string data_dir = "./closedloop-data";
    std::string config_file;
    std::string model = "support-intent";
    bool json = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* labeling =
      app.add_subcommand("labeling", "People's labels: the queue and the annotators");
  labeling->require_subcommand(1);
  CLI::App* report = labeling->add_subcommand(
      "report",
      "Queue depth, each annotator's work, gold accuracy and Dawid-Skene accuracy, Cohen's and "
      "Fleiss' kappa, the label distribution and the model's accuracy on people's labels");
  report->add_option("--data-dir", f->data_dir, "Where predictions.db lives")
      ->capture_default_str();
  report->add_option("--config", f->config_file, "closedloop.toml: its [labeling] section");
  report->add_option("--model", f->model, "The model whose tasks to report")->capture_default_str();
  report->add_flag("--json", f->json, "JSON instead of text");
  report->callback([f, &exit_code] {
    InitLogging(LogOptions{"warn", LogFormat::kLogfmt});  // stdout carries the report
    LabelingConfig config;
    if (!f->config_file.empty()) {
      auto c = LoadConfigFile(f->config_file);
      if (!c.ok()) {
        std::cerr << "closedloop labeling report: config: " << c.status().message() << "\n";
        exit_code = 2;
        return;
      }
      config = c->labeling;
    }
    const std::string path = f->data_dir + "/predictions.db";
    if (!std::filesystem::exists(path)) {
      std::cerr << "closedloop labeling report: no prediction log at '" << path << "'\n";
      exit_code = 1;
      return;
    }
    auto db = SqliteDb::Open(path, SqliteDb::Mode::kReadOnly);
    auto r = db.ok()
                 ? BuildLabelingReport(**db, f->model, config, SystemClock::Get().NowUnixMillis())
                 : StatusOr<LabelingReport>(db.status());
    if (!r.ok()) {
      std::cerr << "closedloop labeling report: " << r.status().message() << "\n";
      exit_code = 1;
      return;
    }
    std::cout << (f->json ? LabelingReportJson(*r) + "\n" : LabelingReportText(*r));
  });
}

}  // namespace closedloop
