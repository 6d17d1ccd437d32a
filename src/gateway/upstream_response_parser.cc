#include "gateway/upstream_response_parser.h"

#include <algorithm>

#include <boost/beast/core/string.hpp>

namespace closedloop {

namespace http = boost::beast::http;

bool IsHopByHopField(http::field f) {
  switch (f) {
    case http::field::connection:
    case http::field::keep_alive:
    case http::field::proxy_connection:
    case http::field::proxy_authenticate:
    case http::field::te:
    case http::field::trailer:
    case http::field::transfer_encoding:
    case http::field::upgrade:
    case http::field::content_length:
      return true;
    default:
      return false;
  }
}

void UpstreamResponseParser::on_response_impl(int code, string_view, int, error_code&) {
  status = static_cast<unsigned>(code);
}

void UpstreamResponseParser::on_field_impl(http::field name, string_view name_string,
                                           string_view value, error_code&) {
  if (IsHopByHopField(name) || name == http::field::server || name == http::field::date) return;
  if (name == http::field::content_type) {
    content_type.assign(value.data(), value.size());
  } else if (!boost::beast::iequals(name_string, "traceparent")) {
    headers.emplace_back(std::string(name_string), std::string(value));
  }
}

void UpstreamResponseParser::on_body_init_impl(const boost::optional<std::uint64_t>& content_length,
                                               error_code&) {
  // Reserve what was announced, within the limit basic_parser enforces anyway.
  if (content_length)
    body.reserve(static_cast<size_t>(std::min<std::uint64_t>(*content_length, 1 << 20)));
}

std::size_t UpstreamResponseParser::on_body_impl(string_view data, error_code&) {
  body.append(data.data(), data.size());
  return data.size();
}

std::size_t UpstreamResponseParser::on_chunk_body_impl(std::uint64_t, string_view data,
                                                       error_code&) {
  body.append(data.data(), data.size());
  return data.size();
}

}  // namespace closedloop
