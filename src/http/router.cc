#include "http/router.h"

#include <boost/beast/http/verb.hpp>

namespace closedloop {
namespace {

// Calls f(segment) for each '/'-separated segment after the leading '/'.
template <typename F>
void ForEachSegment(std::string_view path, F&& f) {
  size_t start = 1;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    f(path.substr(start, end - start));
    start = end + 1;
  }
}

bool IsParam(const std::string& seg) {
  return seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
}

}  // namespace

void Router::Add(boost::beast::http::verb method, std::string pattern, Handler handler) {
  Route r{method, pattern, {}, false, std::move(handler)};
  ForEachSegment(pattern, [&r](std::string_view part) { r.segments.emplace_back(part); });
  if (!r.segments.empty() && r.segments.back() == "*") {
    r.segments.pop_back();
    r.wildcard = true;
  }
  routes_.push_back(std::move(r));
}

bool Router::MatchSegments(const Route& r, std::string_view path, RequestContext* ctx) {
  size_t i = 0;
  bool ok = true;
  size_t extra = 0;
  ForEachSegment(path, [&](std::string_view part) {
    if (!ok) return;
    if (i >= r.segments.size()) {
      if (r.wildcard) {
        ++extra;
      } else {
        ok = false;
      }
      return;
    }
    const std::string& seg = r.segments[i++];
    if (IsParam(seg)) {
      if (part.empty()) ok = false;
    } else if (seg != part) {
      ok = false;
    }
  });
  if (!ok || i != r.segments.size() || (r.wildcard && extra == 0)) return false;
  if (ctx != nullptr) {
    i = 0;
    ForEachSegment(path, [&](std::string_view part) {
      if (i >= r.segments.size()) return;
      const std::string& seg = r.segments[i++];
      if (IsParam(seg)) ctx->path_params.emplace_back(seg.substr(1, seg.size() - 2), part);
    });
  }
  return true;
}

Router::Match Router::Find(boost::beast::http::verb method, std::string_view target,
                           RequestContext& ctx) const {
  std::string_view path = target.substr(0, target.find('?'));
  Match m;
  if (path.empty() || path.front() != '/') {
    m.status = 404;
    return m;
  }
  bool path_matched = false;
  for (bool wildcards : {false, true}) {
    if (wildcards && path_matched) break;  // an exact path with another method: 405
    for (const Route& r : routes_) {
      if (r.wildcard != wildcards || !MatchSegments(r, path, nullptr)) continue;
      if (r.method == method) {
        MatchSegments(r, path, &ctx);
        m.handler = &r.handler;
        m.route = r.pattern;
        m.wildcard = r.wildcard;
        return m;
      }
      path_matched = true;
      if (!m.allow.empty()) m.allow += ", ";
      m.allow += std::string(boost::beast::http::to_string(r.method));
      m.route = r.pattern;
    }
  }
  m.status = path_matched ? 405 : 404;
  if (!path_matched) m.route = "unmatched";
  return m;
}

}  // namespace closedloop
