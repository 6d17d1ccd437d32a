#include "http/http_client.h"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace closedloop {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = boost::beast::http;

StatusOr<HttpUrl> ParseHttpUrl(std::string_view url) {
  constexpr std::string_view kScheme = "http://";
  if (url.substr(0, kScheme.size()) != kScheme) {
    return InvalidArgument("URL '" + std::string(url) + "' must start with http://");
  }
  std::string_view rest = url.substr(kScheme.size());
  size_t slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  HttpUrl out;
  if (slash != std::string_view::npos) out.target = std::string(rest.substr(slash));
  size_t colon = authority.rfind(':');
  if (colon != std::string_view::npos && authority.find(']') == std::string_view::npos) {
    out.port = std::string(authority.substr(colon + 1));
    authority = authority.substr(0, colon);
    if (out.port.empty() || out.port.size() > 5 ||
        out.port.find_first_not_of("0123456789") != std::string::npos) {
      return InvalidArgument("URL '" + std::string(url) + "' has an invalid port");
    }
  }
  if (authority.empty()) return InvalidArgument("URL '" + std::string(url) + "' has no host");
  out.host = std::string(authority);
  return out;
}

StatusOr<HttpClientResponse> HttpCall(
    std::string_view method, std::string_view url, std::string body,
    const std::vector<std::pair<std::string, std::string>>& headers,
    std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(HttpUrl u, ParseHttpUrl(url));
  http::verb verb = http::string_to_verb(method);
  if (verb == http::verb::unknown) {
    return InvalidArgument("unknown HTTP method '" + std::string(method) + "'");
  }
  asio::io_context io;
  beast::tcp_stream stream(io);
  http::request<http::string_body> req{verb, u.target, 11};
  req.set(http::field::host, u.host);
  req.set(http::field::user_agent, "closedloop");
  req.set(http::field::content_type, "application/json");
  for (const auto& [k, v] : headers) req.set(k, v);
  req.body() = std::move(body);
  req.prepare_payload();
  http::response_parser<http::string_body> parser;
  parser.body_limit(8 << 20);
  beast::flat_buffer buffer;
  beast::error_code failure;
  std::string_view stage = "resolve";

  asio::ip::tcp::resolver resolver(io);
  stream.expires_after(timeout);
  resolver.async_resolve(u.host, u.port, [&](beast::error_code ec, auto results) {
    if (ec) {
      failure = ec;
      return;
    }
    stage = "connect";
    stream.async_connect(results, [&](beast::error_code cec, auto) {
      if (cec) {
        failure = cec;
        return;
      }
      stage = "write";
      http::async_write(stream, req, [&](beast::error_code wec, size_t) {
        if (wec) {
          failure = wec;
          return;
        }
        stage = "read";
        http::async_read(stream, buffer, parser,
                         [&](beast::error_code rec, size_t) { failure = rec; });
      });
    });
  });
  io.run();
  beast::error_code ignored;
  stream.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
  if (failure) {
    std::string what = failure == beast::error::timeout
                           ? "no answer within " + std::to_string(timeout.count()) + " ms"
                           : failure.message();
    return Unavailable(std::string(method) + " " + std::string(url) + ": " + std::string(stage) +
                       " failed: " + what);
  }
  HttpClientResponse out;
  out.status = parser.get().result_int();
  out.body = std::move(parser.get().body());
  return out;
}

}  // namespace closedloop
