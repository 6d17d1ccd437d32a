// UpstreamResponseParser: reads a replica's HTTP/1.1 response for the proxy
// without building a header container. The fields the client's answer keeps are
// copied once, as they are parsed, into `headers`: hop-by-hop fields (and
// Content-Length: the answer gets its own), Server, Date and traceparent (the
// gateway sends its own) are dropped, and Content-Type is kept apart. The body
// (Content-Length or chunked) is appended to `body`, bounded by body_limit().
// Status line, keep_alive() and skip() (the answer to a HEAD) as basic_parser.
//
// Thread safety: one response at a time, on one thread.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <boost/beast/http/basic_parser.hpp>
#include <boost/beast/http/field.hpp>

namespace closedloop {

// Fields about one connection hop (RFC 9110 §7.6.1), plus Content-Length, which
// the proxy computes for what it sends itself.
bool IsHopByHopField(boost::beast::http::field f);

class UpstreamResponseParser final : public boost::beast::http::basic_parser<false> {
 public:
  unsigned status = 0;
  std::string content_type;  // empty when the upstream sent none
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;

 private:
  using error_code = boost::beast::error_code;
  using string_view = boost::beast::string_view;
  void on_request_impl(boost::beast::http::verb, string_view, string_view, int,
                       error_code&) override {}
  void on_response_impl(int code, string_view, int, error_code&) override;
  void on_field_impl(boost::beast::http::field name, string_view name_string, string_view value,
                     error_code&) override;
  void on_header_impl(error_code&) override {}
  void on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                         error_code&) override;
  std::size_t on_body_impl(string_view data, error_code&) override;
  void on_chunk_header_impl(std::uint64_t, string_view, error_code&) override {}
  std::size_t on_chunk_body_impl(std::uint64_t, string_view data, error_code&) override;
  void on_finish_impl(error_code&) override {}
};

}  // namespace closedloop
