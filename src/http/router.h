// Router: maps (method, path) to a handler. Patterns are literal segments and
// `{name}` segments, e.g. "/v1/predictions/{request_id}"; a final "*" segment
// ("/api/2.0/mlflow/*") matches one or more further segments and is only tried
// when no other pattern matches the path. A path that matches no pattern is 404;
// a path that matches with another method is 405 with an Allow header.
//
// Thread safety: Add() during set-up only; Dispatch() is then safe from any thread
// (the route table is immutable while serving).
#pragma once

#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http/verb.hpp>

#include "http/request_context.h"

namespace closedloop {

using Handler = std::function<void(RequestContext&)>;

class Router {
 public:
  // `pattern` doubles as the route label in metrics.
  void Add(boost::beast::http::verb method, std::string pattern, Handler handler);

  struct Match {
    const Handler* handler = nullptr;  // null: 404 or 405 (see status)
    std::string_view route = "unmatched";
    unsigned status = 200;
    std::string allow;      // for 405
    bool wildcard = false;  // matched a pattern ending in "*"
  };
  // Fills ctx.path_params on a match.
  Match Find(boost::beast::http::verb method, std::string_view path, RequestContext& ctx) const;

 private:
  struct Route {
    boost::beast::http::verb method;
    std::string pattern;
    std::vector<std::string> segments;
    bool wildcard = false;  // last segment was "*" (not kept in segments)
    Handler handler;
    bool literal = false;  // no {param}, no wildcard: matches only the pattern itself
  };
  static bool MatchSegments(const Route& r, std::string_view path, RequestContext* ctx);
  std::vector<Route> routes_;
};

}  // namespace closedloop
