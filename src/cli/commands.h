// Subcommands of the closedloop binary. Each Add*Command registers its options
// on the CLI11 app and a callback that runs it; the callback stores the process
// exit code in `exit_code`. No logic here that tests cannot reach through the binary.
#pragma once

#include <CLI/CLI.hpp>

namespace closedloop {

void AddUpCommand(CLI::App& app, int& exit_code);
void AddServeCommand(CLI::App& app, int& exit_code);  // serve --role
void AddTrainCommand(CLI::App& app, int& exit_code);
void AddOnnxCommand(CLI::App& app, int& exit_code);
void AddExportCommand(CLI::App& app, int& exit_code);  // export onnx
void AddEvalCommand(CLI::App& app, int& exit_code);
void AddModelsCommand(CLI::App& app, int& exit_code);
void AddFeedbackCommand(CLI::App& app, int& exit_code);
void AddLabelingCommand(CLI::App& app, int& exit_code);  // labeling report
void AddRetrainCommand(CLI::App& app, int& exit_code);
void AddRolloutsCommand(CLI::App& app, int& exit_code);
void AddDriftCommand(CLI::App& app, int& exit_code);
void AddMonitorCommand(CLI::App& app, int& exit_code);
void AddAuthCommands(CLI::App& app, int& exit_code);  // token, keys

}  // namespace closedloop
