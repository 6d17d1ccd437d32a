#include "support/server_process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

namespace closedloop::testing {

ServerProcess::ServerProcess(std::vector<std::string> args, std::string stderr_path)
    : stderr_path_(std::move(stderr_path)) {
  int out[2];
  if (pipe(out) != 0) return;
  pid_ = fork();
  if (pid_ == 0) {
    dup2(out[1], STDOUT_FILENO);
    int err = open(stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (err >= 0) dup2(err, STDERR_FILENO);
    close(out[0]);
    std::vector<char*> argv;
    std::string bin = CLOSEDLOOP_BINARY;
    argv.push_back(bin.data());
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(bin.c_str(), argv.data());
    _exit(127);
  }
  close(out[1]);
  stdout_fd_ = out[0];
}

ServerProcess::~ServerProcess() {
  if (pid_ > 0 && !reaped_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  if (stdout_fd_ >= 0) close(stdout_fd_);
}

bool ServerProcess::WaitReady(std::chrono::milliseconds deadline) {
  const std::string marker = "closedloop ready: ";  // then http:// or https://
  std::string& seen = stdout_seen_;
  auto end = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < end) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        end - std::chrono::steady_clock::now());
    pollfd p{stdout_fd_, POLLIN, 0};
    if (poll(&p, 1, static_cast<int>(std::max<int64_t>(1, left.count()))) <= 0) continue;
    char buf[512];
    ssize_t n = read(stdout_fd_, buf, sizeof buf);
    if (n <= 0) return false;  // exited before becoming ready
    seen.append(buf, static_cast<size_t>(n));
    size_t at = seen.find(marker);
    if (at != std::string::npos) {
      size_t nl = seen.find('\n', at);
      if (nl == std::string::npos) continue;
      std::string hostport = seen.substr(at + marker.size(), nl - at - marker.size());
      port_ = std::atoi(hostport.substr(hostport.rfind(':') + 1).c_str());
      return port_ > 0;
    }
  }
  return false;
}

void ServerProcess::Signal(int sig) {
  if (pid_ > 0 && !reaped_) kill(pid_, sig);
}

std::optional<int> ServerProcess::WaitExit(std::chrono::milliseconds deadline) {
  auto end = std::chrono::steady_clock::now() + deadline;
  for (;;) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      if (WIFEXITED(status)) return WEXITSTATUS(status);
      return std::nullopt;
    }
    if (std::chrono::steady_clock::now() >= end) return std::nullopt;
    // Block on the child's stdout closing (it closes at exit) instead of sleeping.
    pollfd p{stdout_fd_, POLLIN, 0};
    poll(&p, 1, 20);
    if (p.revents & (POLLIN | POLLHUP)) {
      char buf[512];
      if (read(stdout_fd_, buf, sizeof buf) <= 0) {
        // EOF: the child is exiting; keep waiting for waitpid.
        poll(nullptr, 0, 1);
      }
    }
  }
}

std::string ServerProcess::Stderr() const {
  std::ifstream in(stderr_path_);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> UpArgs(const std::string& data_dir, const std::string& config_file) {
  // --insecure: no credentials unless the test's config enables [auth].
  std::vector<std::string> args = {"up",        "--listen",  "127.0.0.1:0", "--data-dir", data_dir,
                                   "--no-demo", "--workers", "2",           "--insecure"};
  if (!config_file.empty()) {
    args.push_back("--config");
    args.push_back(config_file);
  }
  return args;
}

}  // namespace closedloop::testing
