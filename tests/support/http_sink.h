// HttpSink: a small HTTP/1.1 server for tests that receive calls from closedloop
// (alert webhooks, OTLP trace export). It binds 127.0.0.1 on a free port at
// construction but accepts only after Listen(), so until then the endpoint is
// "down" (connections are refused). Answers each request with the next status of
// a script (then 200), records every request, and lets a test wait for N of them
// with a deadline (condition variable, no sleeps).
#pragma once

#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace closedloop::testing {

struct SinkRequest {
  std::string method, target, body;
  int answered = 200;  // the status the sink answered with
};

class HttpSink {
 public:
  HttpSink();
  ~HttpSink();
  int port() const { return port_; }
  std::string Url(const std::string& path) const;
  // Starts accepting connections.
  void Listen();
  // The statuses of the next requests, in order (later ones get 200).
  void Script(std::vector<int> statuses);
  // Waits until at least `n` requests (answered with any status) arrived; returns them.
  std::vector<SinkRequest> WaitFor(size_t n, std::chrono::milliseconds deadline);
  std::vector<SinkRequest> Received() const;

 private:
  void Serve();
  void Handle(int fd);
  int fd_ = -1;
  int port_ = 0;
  int wake_[2] = {-1, -1};
  std::thread thread_;
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<int> script_;
  std::vector<SinkRequest> received_;
};

}  // namespace closedloop::testing
