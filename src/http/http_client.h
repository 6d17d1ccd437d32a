// HttpClient: one blocking HTTP/1.1 request to an http:// URL, for the control
// plane's outgoing calls (alert webhooks, OTLP trace export). Not for the request
// path: each call opens its own connection and io_context.
//
// Every call has a deadline covering resolve, connect, write and read; a server
// that does not answer in time is an Unavailable status, never a hang.
// Thread safety: the functions are reentrant; call them from any thread.
#pragma once

#include <chrono>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"

namespace closedloop {

struct HttpUrl {
  std::string host;
  std::string port = "80";
  std::string target = "/";  // path and query
};

// Accepts "http://host[:port][/path]". InvalidArgument names what is wrong
// (https:// is refused: outgoing TLS is not built in).
StatusOr<HttpUrl> ParseHttpUrl(std::string_view url);

struct HttpClientResponse {
  unsigned status = 0;
  std::string body;
};

// Sends `method url` with `body` (Content-Type application/json unless given in
// `headers`). A response of any status is OK; transport failures are Unavailable.
StatusOr<HttpClientResponse> HttpCall(
    std::string_view method, std::string_view url, std::string body,
    const std::vector<std::pair<std::string, std::string>>& headers,
    std::chrono::milliseconds timeout);

}  // namespace closedloop
