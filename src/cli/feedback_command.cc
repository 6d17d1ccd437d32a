#include <filesystem>
#include <iostream>

#include "cli/commands.h"
#include "core/clock.h"
#include "core/logging.h"
#include "feedback/feedback_summary.h"
#include "store/sqlite_db.h"

namespace closedloop {

void AddFeedbackCommand(CLI::App& app, int& exit_code) {
  struct Flags {
    std::string data_dir = "./closedloop-data";
    std::string model;
    double since_hours = 0;
    bool json = false;
    std::string embedding_model = "comment-sentiment@champion";
  };
  auto f = std::make_shared<Flags>();
  CLI::App* feedback = app.add_subcommand("feedback", "What the feedback says");
  feedback->require_subcommand(1);
  CLI::App* report = feedback->add_subcommand(
      "report",
      "Counts, scores, rating histogram, NPS, click-through, escalations, and how "
      "often people's labels agree with the model");
  report->add_option("--data-dir", f->data_dir, "Where predictions.db lives")
      ->capture_default_str();
  report->add_option("--model", f->model, "Only this model's predictions (default: all)");
  report->add_option("--since-hours", f->since_hours, "Only the last H hours (default: all)")
      ->check(CLI::Range(0.0, 1e6));
  report->add_flag("--json", f->json, "JSON instead of text");
  report
      ->add_option("--topics-model", f->embedding_model,
                   "Model whose sentence vectors cluster the comments into topics")
      ->capture_default_str();
  report->callback([f, &exit_code] {
    InitLogging(LogOptions{"warn", LogFormat::kLogfmt});  // stdout carries the report
    std::string path = f->data_dir + "/predictions.db";
    if (!std::filesystem::exists(path)) {
      std::cerr << "closedloop feedback report: no prediction log at '" << path << "'\n";
      exit_code = 1;
      return;
    }
    auto db = SqliteDb::Open(path, SqliteDb::Mode::kReadOnly);
    int64_t since = 0;
    if (f->since_hours > 0) {
      since = SystemClock::Get().NowUnixMillis() - static_cast<int64_t>(f->since_hours * 3.6e6);
    }
    auto summary =
        db.ok() ? SummarizeFeedback(**db, f->model, since) : StatusOr<FeedbackSummary>(db.status());
    if (!summary.ok()) {
      std::cerr << "closedloop feedback report: " << summary.status().message() << "\n";
      exit_code = 1;
      return;
    }
    // Topics: cluster the comments on the sentiment model's sentence vectors.
    auto comments = RecentComments(**db, f->model, since, 1000);
    std::string repo_dir = f->data_dir + "/models";
    if (comments.ok() && !comments->empty() && std::filesystem::exists(repo_dir)) {
      ModelRepository repo(repo_dir);
      std::string name = f->embedding_model.substr(0, f->embedding_model.find('@'));
      if (repo.LoadModel(name).ok()) AddTopics(*summary, *comments, repo, f->embedding_model);
    }
    std::cout << (f->json ? FeedbackSummaryJson(*summary) + "\n" : FeedbackSummaryText(*summary));
  });
}

}  // namespace closedloop
