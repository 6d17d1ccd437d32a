#include <iostream>

#include "cli/commands.h"

#ifndef CLOSEDLOOP_VERSION
#define CLOSEDLOOP_VERSION "0.1.0"
#endif

int main(int argc, char** argv) {
  CLI::App app{"closedloop: train, serve, log, learn from feedback, roll out — one binary"};
  app.require_subcommand(1);
  int exit_code = 0;
  closedloop::AddUpCommand(app, exit_code);
  closedloop::AddServeCommand(app, exit_code);
  closedloop::AddTrainCommand(app, exit_code);
  closedloop::AddOnnxCommand(app, exit_code);
  closedloop::AddExportCommand(app, exit_code);
  closedloop::AddEvalCommand(app, exit_code);
  closedloop::AddModelsCommand(app, exit_code);
  closedloop::AddFeedbackCommand(app, exit_code);
  closedloop::AddLabelingCommand(app, exit_code);
  closedloop::AddRetrainCommand(app, exit_code);
  closedloop::AddRolloutsCommand(app, exit_code);
  closedloop::AddDriftCommand(app, exit_code);
  closedloop::AddMonitorCommand(app, exit_code);
  closedloop::AddAuthCommands(app, exit_code);
  app.add_subcommand("version", "Print the version")->callback([] {
    std::cout << "closedloop " << CLOSEDLOOP_VERSION << "\n";
  });
  CLI11_PARSE(app, argc, argv);
  return exit_code;
}
