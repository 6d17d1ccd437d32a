// The proxy's reading of a replica's answer: the fields it keeps and drops, both
// body framings, HEAD, keep-alive, the body limit and a malformed answer.
#include "gateway/upstream_response_parser.h"

#include <gtest/gtest.h>

#include <string>

namespace closedloop {
namespace {

namespace http = boost::beast::http;

// Feeds `wire` in pieces of `step` bytes, as reads from a socket would.
boost::beast::error_code Parse(UpstreamResponseParser& p, const std::string& wire,
                               size_t step = 7) {
  std::string pending;
  for (size_t at = 0; at < wire.size() && !p.is_done(); at += step) {
    pending += wire.substr(at, step);
    for (size_t used = 1; used > 0 && !pending.empty() && !p.is_done();) {
      boost::beast::error_code ec;
      used = p.put(boost::asio::buffer(pending), ec);
      if (ec == http::error::need_more) break;
      if (ec) return ec;
      pending.erase(0, used);
    }
  }
  return p.is_done() ? boost::beast::error_code{} : http::error::need_more;
}

TEST(UpstreamResponseParserTest, KeepsEndToEndFieldsAndTheBody) {
  UpstreamResponseParser p;
  const std::string body = R"({"label":"card_arrival"})";
  ASSERT_FALSE(Parse(p,
                     "HTTP/1.1 200 OK\r\nServer: closedloop\r\nDate: x\r\n"
                     "Content-Type: application/json; charset=utf-8\r\n"
                     "X-Request-Id: 01ABC\r\ntraceparent: 00-aa-bb-01\r\nKeep-Alive: timeout=5\r\n"
                     "Content-Length: " +
                         std::to_string(body.size()) + "\r\n\r\n" + body));
  EXPECT_EQ(p.status, 200u);
  EXPECT_EQ(p.content_type, "application/json; charset=utf-8");
  ASSERT_EQ(p.headers.size(), 1u);  // Server, Date, traceparent, hop-by-hop: dropped
  EXPECT_EQ(p.headers[0].first, "X-Request-Id");
  EXPECT_EQ(p.headers[0].second, "01ABC");
  EXPECT_EQ(p.body, body);
  EXPECT_TRUE(p.keep_alive());
}

TEST(UpstreamResponseParserTest, ChunkedBodyConnectionCloseAndErrors) {
  UpstreamResponseParser chunked;
  ASSERT_FALSE(Parse(chunked,
                     "HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n"
                     "\r\n5\r\n{\"err\r\n9\r\nor\":\"no\"}\r\n0\r\n\r\n"));
  EXPECT_EQ(chunked.status, 404u);
  EXPECT_EQ(chunked.body, R"({"error":"no"})");
  EXPECT_TRUE(chunked.headers.empty());
  EXPECT_FALSE(chunked.keep_alive());

  UpstreamResponseParser limited;
  limited.body_limit(4);
  EXPECT_EQ(Parse(limited, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789"),
            http::error::body_limit);

  UpstreamResponseParser garbage;
  EXPECT_TRUE(Parse(garbage, "SMTP ready\r\n\r\n"));
}

TEST(UpstreamResponseParserTest, AnswerToHeadHasNoBody) {
  UpstreamResponseParser head;
  head.skip(true);
  ASSERT_FALSE(Parse(head, "HTTP/1.1 200 OK\r\nContent-Length: 120\r\n\r\n"));
  EXPECT_TRUE(head.is_done());
  EXPECT_TRUE(head.body.empty());
}

}  // namespace
}  // namespace closedloop
