#include <algorithm>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <set>

#include "cli/commands.h"
#include "learn/evaluation.h"
#include "learn/oos_evaluation.h"
#include "serving/model_config.h"

namespace closedloop {

namespace {

// Overall figures and the per-class table, for a terminal.
void PrintSummary(const EvaluationReport& r) {
  int width = 8;
  for (const auto& m : r.per_class) width = std::max(width, static_cast<int>(m.label.size()) + 2);
  std::cout << std::fixed << std::setprecision(4) << "rows       " << r.rows << "\naccuracy   "
            << r.accuracy << "\nmacro_f1   " << r.macro_f1 << "\nlog_loss   " << r.log_loss
            << "\nroc_auc    ";
  if (r.roc_auc) {
    std::cout << *r.roc_auc;
  } else {
    std::cout << "n/a";
  }
  std::cout << "\nece        " << r.ece << "\n\n"
            << std::left << std::setw(width) << "label" << std::right << std::setw(10)
            << "precision" << std::setw(10) << "recall" << std::setw(10) << "f1" << std::setw(9)
            << "support\n";
  for (const auto& m : r.per_class) {
    std::cout << std::left << std::setw(width) << m.label << std::right << std::setw(10)
              << m.precision << std::setw(10) << m.recall << std::setw(10) << m.f1 << std::setw(9)
              << m.support << "\n";
  }
}

}  // namespace

void AddEvalCommand(CLI::App& app, int& exit_code) {
  struct Flags {
    std::string model, input, format = "auto", text_col = "text", label_col = "label", output;
    bool table = false;
    std::vector<std::string> oos_labels;
    std::optional<double> threshold;
    bool oos = false;
    std::string score;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* eval = app.add_subcommand(
      "eval",
      "Evaluate a model on a labelled file: metrics, confusion matrix, per-class "
      "precision/recall/F1, reliability diagram (JSON)");
  eval->add_option("--model", f->model, "Model version directory (models/NAME/N)")->required();
  eval->add_option("--input", f->input, "Labelled CSV/TSV/JSONL file")->required();
  eval->add_option("--format", f->format, "csv, tsv, jsonl or auto (from the file name)")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "csv", "tsv", "jsonl"}));
  eval->add_option("--text-col", f->text_col, "Text column (text models)")->capture_default_str();
  eval->add_option("--label-col", f->label_col, "Label column")->capture_default_str();
  eval->add_option("--output", f->output, "Also write the JSON report to this file");
  eval->add_flag("--table", f->table, "Print a summary table instead of JSON");
  eval->add_flag("--oos", f->oos,
                 "Out-of-scope report instead: rows whose label the model does not know (or "
                 "named by --oos-label) should be rejected by the confidence threshold");
  eval->add_option("--oos-label", f->oos_labels, "With --oos: a label that means out of scope");
  eval->add_option("--threshold", f->threshold,
                   "With --oos: reject when the score is below this (default: the model's "
                   "oos_threshold for its score, else 0.5 of max_probability)");
  eval->add_option("--score", f->score,
                   "With --oos: max_probability, max_logit or energy (default: the model's "
                   "oos_score, else max_probability)")
      ->check(CLI::IsMember({"max_probability", "max_logit", "energy"}));
  eval->callback([f, &exit_code] {
    auto format = ParseTableFormat(f->format);
    if (f->oos) {
      auto s = ScoreModelOnFile(f->model, f->input, *format, f->text_col, f->label_col);
      auto config = LoadModelConfig(f->model + "/config.toml");
      std::string score = f->score;
      if (score.empty()) score = config.ok() && config->oos_threshold ? config->oos_score : "";
      if (score.empty()) score = "max_probability";
      double threshold = 0.5;
      if (f->threshold) {
        threshold = *f->threshold;
      } else if (config.ok() && config->oos_threshold && config->oos_score == score) {
        threshold = *config->oos_threshold;
      }
      StatusOr<std::vector<double>> scores = std::vector<double>();
      if (s.ok() && score != "max_probability") {
        scores = InScopeScoresOnFile(f->model, f->input, *format, f->text_col, f->label_col, score);
      }
      auto oos = !s.ok() ? StatusOr<OosReport>(s.status())
                 : !scores.ok()
                     ? StatusOr<OosReport>(scores.status())
                     : EvaluateOutOfScope(s->scored, s->model_labels,
                                          {f->oos_labels.begin(), f->oos_labels.end()}, threshold,
                                          score == "max_probability" ? nullptr : &*scores, score);
      if (!oos.ok()) {
        std::cerr << "closedloop eval: " << oos.status().message() << "\n";
        exit_code = 1;
        return;
      }
      std::cout << RenderOosJson(*oos) << "\n";
      return;
    }
    auto report = EvaluateModelOnFile(f->model, f->input, *format, f->text_col, f->label_col);
    if (!report.ok()) {
      std::cerr << "closedloop eval: " << report.status().message() << "\n";
      exit_code = 1;
      return;
    }
    std::string json = RenderEvaluationJson(*report);
    if (!f->output.empty()) {
      std::ofstream out(f->output, std::ios::trunc);
      out << json << "\n";
      if (!out) {
        std::cerr << "closedloop eval: cannot write '" << f->output << "'\n";
        exit_code = 1;
        return;
      }
    }
    if (f->table) {
      PrintSummary(*report);
    } else {
      std::cout << json << "\n";
    }
  });
}

}  // namespace closedloop
