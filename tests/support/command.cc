#include "support/command.h"

#include <sys/wait.h>

#include <cstdio>
#include <regex>

namespace closedloop::testing {

CommandResult RunCommand(const std::string& shell_command) {
  CommandResult r;
  FILE* p = popen((shell_command + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.output.append(buf, n);
  int status = pclose(p);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  return r;
}

CommandResult RunClosedloop(const std::string& args) {
  return RunCommand(std::string(CLOSEDLOOP_BINARY) + " " + args);
}

}  // namespace closedloop::testing

namespace closedloop::testing {

double Field(const std::string& output, const std::string& key) {
  std::smatch m;
  if (!std::regex_search(output, m, std::regex("(^|\\n)" + key + ": ([-0-9.e]+)"))) return -1;
  return std::stod(m[2]);
}

std::string CreateApiKey(const std::string& data_dir, const std::string& name,
                         const std::string& scope) {
  auto k =
      RunClosedloop("keys create --data-dir " + data_dir + " --name " + name + " --scope " + scope);
  if (k.exit_code != 0) return "";
  return k.output.substr(0, k.output.find('\n'));
}

}  // namespace closedloop::testing
