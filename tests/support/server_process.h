// Runs the real closedloop binary as a child process, waits (with a deadline) for
// its "closedloop ready: http://HOST:PORT" line, and lets a test signal it and
// collect its exit status. The destructor SIGKILLs a child that is still running.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <optional>
#include <string>
#include <vector>

namespace closedloop::testing {

class ServerProcess {
 public:
  // Starts `closedloop <args...>`; stderr goes to `stderr_path`.
  ServerProcess(std::vector<std::string> args, std::string stderr_path);
  ~ServerProcess();

  // Waits for the ready line; false if the process exited or the deadline passed.
  bool WaitReady(std::chrono::milliseconds deadline = std::chrono::seconds(60));
  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  void Signal(int sig);
  // The exit code, or nullopt if it has not exited within the deadline (or was signalled).
  std::optional<int> WaitExit(std::chrono::milliseconds deadline);
  std::string Stderr() const;
  // What the process wrote on stdout up to and including the ready line.
  const std::string& Stdout() const { return stdout_seen_; }

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  int port_ = 0;
  bool reaped_ = false;
  std::string stderr_path_;
  std::string stdout_seen_;
};

// `closedloop up --insecure` on port 0 with the test model installed in `data_dir`
// and an optional config file (its [auth] decides authentication).
std::vector<std::string> UpArgs(const std::string& data_dir, const std::string& config_file = "");

}  // namespace closedloop::testing
