// Runs a shell command (stdout and stderr together) and returns its exit code and output.
#pragma once

#include <string>

namespace closedloop::testing {

struct CommandResult {
  int exit_code = -1;
  std::string output;
};

CommandResult RunCommand(const std::string& shell_command);
// `closedloop ARGS` (the binary under test).
CommandResult RunClosedloop(const std::string& args);
// `closedloop keys create` in `data_dir`: the new API key's secret (the first line).
std::string CreateApiKey(const std::string& data_dir, const std::string& name,
                         const std::string& scope);
// The number after "KEY: " at the start of a line of a command's output, or -1.
double Field(const std::string& output, const std::string& key);

}  // namespace closedloop::testing
