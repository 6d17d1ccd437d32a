#include "http/router.h"

#include <algorithm>

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

void Router::Add(boost::beast::http::verb method, std::string pattern, Handler handler,
                 BodyMedia media, size_t body_limit_bytes) {
  Route r{method, pattern, {}, false, std::move(handler)};
  r.media = media;
  r.body_limit = body_limit_bytes;
  max_body_limit_ = std::max(max_body_limit_, body_limit_bytes);
  ForEachSegment(pattern, [&r](std::string_view part) { r.segments.emplace_back(part); });
  if (!r.segments.empty() && r.segments.back() == "*") {
    r.segments.pop_back();
    r.wildcard = true;
  }
  r.literal = !r.wildcard && std::none_of(r.segments.begin(), r.segments.end(), IsParam);
  routes_.push_back(std::move(r));
}

bool Router::MatchSegments(const Route& r, std::string_view path, RequestContext* ctx) {
  // A literal pattern (most routes) matches only itself: one comparison.
  if (r.literal) return path == r.pattern;
  size_t i = 0;
  size_t extra = 0;
  for (size_t start = 1; start <= path.size();) {  // segments after the leading '/'
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    const std::string_view part = path.substr(start, end - start);
    start = end + 1;
    if (i >= r.segments.size()) {
      if (!r.wildcard) return false;
      ++extra;
      continue;
    }
    const std::string& seg = r.segments[i++];
    if (IsParam(seg) ? part.empty() : seg != part) return false;  // stops at the first miss
  }
  if (i != r.segments.size() || (r.wildcard && extra == 0)) return false;
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

const Router::Route* Router::FindRoute(boost::beast::http::verb method,
                                       std::string_view path) const {
  for (bool wildcards : {false, true}) {
    for (const Route& r : routes_) {
      if (r.wildcard == wildcards && r.method == method && MatchSegments(r, path, nullptr)) {
        return &r;
      }
    }
  }
  return nullptr;
}

size_t Router::BodyLimit(boost::beast::http::verb method, std::string_view target) const {
  if (max_body_limit_ == 0) return 0;  // no route has its own: no lookup
  std::string_view path = target.substr(0, target.find('?'));
  if (path.empty() || path.front() != '/') return 0;
  const Route* r = FindRoute(method, path);
  return r == nullptr ? 0 : r->body_limit;
}

Router::Match Router::Find(boost::beast::http::verb method, std::string_view target,
                           RequestContext& ctx) const {
  std::string_view path = target.substr(0, target.find('?'));
  Match m;
  if (path.empty() || path.front() != '/') {
    m.status = 404;
    return m;
  }
  for (bool wildcards : {false, true}) {
    // The first route of this kind for the method and path, in the order added ...
    for (const Route& r : routes_) {
      if (r.wildcard != wildcards || r.method != method || !MatchSegments(r, path, nullptr)) {
        continue;
      }
      MatchSegments(r, path, &ctx);
      m.handler = &r.handler;
      m.route = r.pattern;
      m.wildcard = r.wildcard;
      m.media = r.media;
      return m;
    }
    // ... else, when the path has routes for other methods: 405 with Allow (an
    // exact path with another method is not left to a wildcard route).
    for (const Route& r : routes_) {
      if (r.wildcard != wildcards || !MatchSegments(r, path, nullptr)) continue;
      if (!m.allow.empty()) m.allow += ", ";
      m.allow += std::string(boost::beast::http::to_string(r.method));
      m.route = r.pattern;
    }
    if (!m.allow.empty()) {
      m.status = 405;
      return m;
    }
  }
  m.status = 404;
  m.route = "unmatched";
  return m;
}

}  // namespace closedloop
