#include "support/http_sink.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>

namespace closedloop::testing {

HttpSink::HttpSink() {
  fd_ = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = 0;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  port_ = ntohs(addr.sin_port);
  if (pipe(wake_) != 0) std::abort();
}

HttpSink::~HttpSink() {
  if (thread_.joinable()) {
    char c = 'x';
    (void)!write(wake_[1], &c, 1);
    thread_.join();
  }
  close(fd_);
  close(wake_[0]);
  close(wake_[1]);
}

std::string HttpSink::Url(const std::string& path) const {
  return "http://127.0.0.1:" + std::to_string(port_) + path;
}

void HttpSink::Listen() {
  listen(fd_, 64);
  thread_ = std::thread([this] { Serve(); });
}

void HttpSink::Script(std::vector<int> statuses) {
  std::lock_guard lock(mu_);
  script_.assign(statuses.begin(), statuses.end());
}

std::vector<SinkRequest> HttpSink::WaitFor(size_t n, std::chrono::milliseconds deadline) {
  std::unique_lock lock(mu_);
  cv_.wait_for(lock, deadline, [&] { return received_.size() >= n; });
  return received_;
}

std::vector<SinkRequest> HttpSink::Received() const {
  std::lock_guard lock(mu_);
  return received_;
}

void HttpSink::Serve() {
  while (true) {
    pollfd fds[2] = {{fd_, POLLIN, 0}, {wake_[0], POLLIN, 0}};
    if (poll(fds, 2, -1) < 0) continue;
    if (fds[1].revents != 0) return;
    int c = accept(fd_, nullptr, nullptr);
    if (c >= 0) Handle(c);
  }
}

// One connection, requests answered in turn until the peer closes (keep-alive).
void HttpSink::Handle(int fd) {
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  std::string buf;
  char tmp[65536];
  while (true) {
    size_t header_end;
    while ((header_end = buf.find("\r\n\r\n")) == std::string::npos) {
      ssize_t n = recv(fd, tmp, sizeof tmp, 0);
      if (n <= 0) return (void)close(fd);
      buf.append(tmp, static_cast<size_t>(n));
    }
    std::string head = buf.substr(0, header_end);
    size_t length = 0;
    for (size_t pos = 0; pos < head.size();) {
      size_t e = head.find("\r\n", pos);
      if (e == std::string::npos) e = head.size();
      std::string line = head.substr(pos, e - pos);
      if (strncasecmp(line.c_str(), "content-length:", 15) == 0) {
        length = std::strtoul(line.c_str() + 15, nullptr, 10);
      }
      pos = e + 2;
    }
    while (buf.size() < header_end + 4 + length) {
      ssize_t n = recv(fd, tmp, sizeof tmp, 0);
      if (n <= 0) return (void)close(fd);
      buf.append(tmp, static_cast<size_t>(n));
    }
    SinkRequest r;
    size_t sp1 = head.find(' '), sp2 = head.find(' ', sp1 + 1);
    r.method = head.substr(0, sp1);
    r.target = head.substr(sp1 + 1, sp2 - sp1 - 1);
    r.body = buf.substr(header_end + 4, length);
    buf.erase(0, header_end + 4 + length);
    int status = 200;
    {
      std::lock_guard lock(mu_);
      if (!script_.empty()) {
        status = script_.front();
        script_.pop_front();
      }
      r.answered = status;
      received_.push_back(std::move(r));
    }
    cv_.notify_all();
    std::string reply = "HTTP/1.1 " + std::to_string(status) +
                        " X\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}";
    if (send(fd, reply.data(), reply.size(), MSG_NOSIGNAL) < 0) return (void)close(fd);
  }
}

}  // namespace closedloop::testing
