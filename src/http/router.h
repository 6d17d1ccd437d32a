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

// What request bodies a route takes. kJson (the default): a body with a
// Content-Type other than JSON is answered 415 before the handler runs. kAny: the
// handler reads the body whatever its type (binary tensors, artifact uploads, the
// gateway's proxy).
enum class BodyMedia { kJson, kAny };

class Router {
 public:
  // `pattern` doubles as the route label in metrics. `body_limit_bytes` > 0 lets
  // this route take bodies up to that size instead of server.body_limit_bytes
  // (uploads); 0: the server's limit.
  void Add(boost::beast::http::verb method, std::string pattern, Handler handler,
           BodyMedia media = BodyMedia::kJson, size_t body_limit_bytes = 0);
  // The body limit of the route `target` goes to (0: the server's), and the
  // largest limit of any route (0 when none has its own).
  size_t BodyLimit(boost::beast::http::verb method, std::string_view target) const;
  size_t MaxBodyLimit() const { return max_body_limit_; }

  struct Match {
    const Handler* handler = nullptr;  // null: 404 or 405 (see status)
    std::string_view route = "unmatched";
    unsigned status = 200;
    std::string allow;      // for 405
    bool wildcard = false;  // matched a pattern ending in "*"
    BodyMedia media = BodyMedia::kJson;
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
    BodyMedia media = BodyMedia::kJson;
    size_t body_limit = 0;
  };
  const Route* FindRoute(boost::beast::http::verb method, std::string_view path) const;
  static bool MatchSegments(const Route& r, std::string_view path, RequestContext* ctx);
  std::vector<Route> routes_;
  size_t max_body_limit_ = 0;
};

}  // namespace closedloop
