#include "http/router.h"

#include "http/query.h"

#include <gtest/gtest.h>

namespace closedloop {
namespace {

namespace http = boost::beast::http;

TEST(RouterTest, MatchesParamsAndReportsRoute) {
  Router r;
  int hit = 0;
  r.Add(http::verb::get, "/v1/predictions/{request_id}", [&](RequestContext&) { hit = 1; });
  r.Add(http::verb::post, "/v1/predict", [&](RequestContext&) { hit = 2; });
  HttpRequest req;
  RequestContext ctx(req, "id");
  auto m = r.Find(http::verb::get, "/v1/predictions/01ABC?x=1", ctx);
  ASSERT_NE(m.handler, nullptr);
  (*m.handler)(ctx);
  EXPECT_EQ(hit, 1);
  EXPECT_EQ(m.route, "/v1/predictions/{request_id}");
  EXPECT_EQ(ctx.Param("request_id"), "01ABC");
}

TEST(RouterTest, UnknownPathIs404AndWrongMethodIs405WithAllow) {
  Router r;
  r.Add(http::verb::post, "/v1/predict", [](RequestContext&) {});
  r.Add(http::verb::put, "/v1/predict", [](RequestContext&) {});
  HttpRequest req;
  RequestContext ctx(req, "id");
  auto none = r.Find(http::verb::get, "/v1/nothing", ctx);
  EXPECT_EQ(none.handler, nullptr);
  EXPECT_EQ(none.status, 404u);
  auto wrong = r.Find(http::verb::get, "/v1/predict", ctx);
  EXPECT_EQ(wrong.handler, nullptr);
  EXPECT_EQ(wrong.status, 405u);
  EXPECT_EQ(wrong.allow, "POST, PUT");
  EXPECT_EQ(r.Find(http::verb::get, "/v1/predictions/", ctx).status, 404u);  // empty param
}

TEST(RouterTest, StatusCodesMapToHttp) {
  EXPECT_EQ(HttpStatusFor(StatusCode::kInvalidArgument), 400u);
  EXPECT_EQ(HttpStatusFor(StatusCode::kNotFound), 404u);
  EXPECT_EQ(HttpStatusFor(StatusCode::kPayloadTooLarge), 413u);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnsupportedMedia), 415u);
  EXPECT_EQ(HttpStatusFor(StatusCode::kUnavailable), 503u);
  EXPECT_EQ(ErrorBody("field 'text' \"x\""), R"({"error":"field 'text' \"x\""})");
}

}  // namespace
}  // namespace closedloop

namespace closedloop {
namespace {

TEST(RouterWildcardTest, WildcardOnlyWhenNothingExactMatches) {
  Router r;
  int hit = 0;
  r.Add(http::verb::post, "/api/2.0/mlflow/runs/create", [&](RequestContext&) { hit = 1; });
  r.Add(http::verb::get, "/api/2.0/mlflow/*", [&](RequestContext&) { hit = 2; });
  r.Add(http::verb::post, "/api/2.0/mlflow/*", [&](RequestContext&) { hit = 2; });
  HttpRequest req;
  RequestContext ctx(req, "id");
  auto exact = r.Find(http::verb::post, "/api/2.0/mlflow/runs/create", ctx);
  ASSERT_NE(exact.handler, nullptr);
  (*exact.handler)(ctx);
  EXPECT_EQ(hit, 1);
  EXPECT_EQ(r.Find(http::verb::get, "/api/2.0/mlflow/runs/create", ctx).status, 405u);
  auto unknown = r.Find(http::verb::post, "/api/2.0/mlflow/runs/explode", ctx);
  ASSERT_NE(unknown.handler, nullptr);
  EXPECT_EQ(unknown.route, "/api/2.0/mlflow/*");
  EXPECT_EQ(r.Find(http::verb::get, "/api/2.0/mlflow", ctx).status, 404u);  // needs 1+ segment
}

TEST(QueryTest, DecodesParameters) {
  EXPECT_EQ(QueryParam("/x?a=1&name=two%20words+and%2B", "name"), "two words and+");
  EXPECT_EQ(QueryParam("/x?a=1&flag", "flag"), "");
  EXPECT_FALSE(QueryParam("/x?a=1", "b"));
  EXPECT_FALSE(QueryParam("/x", "a"));
}

}  // namespace
}  // namespace closedloop
