// A deliberately small blocking HTTP/1.1 client over POSIX sockets, so tests can
// also send malformed, partial, pipelined or trickled bytes. Every blocking call
// has a deadline (SO_RCVTIMEO / poll): a test never hangs on a broken server.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace closedloop::testing {

struct HttpResult {
  int status = 0;                              // 0: no response (connection closed or timed out)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string Header(const std::string& name) const;
};

class Connection {
 public:
  explicit Connection(int port, std::chrono::milliseconds timeout = std::chrono::seconds(10));
  ~Connection();
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;

  bool connected() const { return fd_ >= 0; }
  bool SendRaw(const std::string& bytes);
  // Reads one response (status line, headers, Content-Length body).
  HttpResult ReadResponse();
  HttpResult Request(const std::string& method, const std::string& path,
                     const std::string& body = "",
                     const std::vector<std::pair<std::string, std::string>>& headers = {
                         {"Content-Type", "application/json"}});
  // True when the peer closed the connection within `within` (reads and discards data).
  bool WaitClosed(std::chrono::milliseconds within);
  int fd() const { return fd_; }

 private:
  bool Fill();
  int fd_ = -1;
  std::string buf_;
};

// One request on a fresh connection.
HttpResult Fetch(int port, const std::string& method, const std::string& path,
                 const std::string& body = "",
                 const std::vector<std::pair<std::string, std::string>>& headers = {
                     {"Content-Type", "application/json"}});

std::string BuildRequest(const std::string& method, const std::string& path,
                         const std::string& body,
                         const std::vector<std::pair<std::string, std::string>>& headers);

}  // namespace closedloop::testing
