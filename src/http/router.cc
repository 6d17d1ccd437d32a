#include "http/router.h"

#include <boost/beast/http/verb.hpp>

namespace closedloop {
namespace {

std::vector<std::string_view> SplitPath(std::string_view path) {
  std::vector<std::string_view> parts;
  size_t start = 1;  // skip the leading '/'
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string_view::npos) end = path.size();
    parts.push_back(path.substr(start, end - start));
    start = end + 1;
  }
  return parts;
}

}  // namespace

void Router::Add(boost::beast::http::verb method, std::string pattern, Handler handler) {
  Route r{method, pattern, {}, std::move(handler)};
  for (auto part : SplitPath(pattern)) r.segments.emplace_back(part);
  routes_.push_back(std::move(r));
}

bool Router::MatchSegments(const Route& r, const std::vector<std::string_view>& parts,
                           RequestContext* ctx) {
  if (parts.size() != r.segments.size()) return false;
  for (size_t i = 0; i < parts.size(); ++i) {
    const std::string& seg = r.segments[i];
    bool is_param = seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
    if (is_param) {
      if (parts[i].empty()) return false;
    } else if (seg != parts[i]) {
      return false;
    }
  }
  if (ctx != nullptr) {
    for (size_t i = 0; i < parts.size(); ++i) {
      const std::string& seg = r.segments[i];
      if (seg.size() > 2 && seg.front() == '{') {
        ctx->path_params.emplace_back(seg.substr(1, seg.size() - 2), std::string(parts[i]));
      }
    }
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
  auto parts = SplitPath(path);
  bool path_matched = false;
  for (const Route& r : routes_) {
    if (!MatchSegments(r, parts, nullptr)) continue;
    if (r.method == method) {
      MatchSegments(r, parts, &ctx);
      m.handler = &r.handler;
      m.route = r.pattern;
      return m;
    }
    path_matched = true;
    if (!m.allow.empty()) m.allow += ", ";
    m.allow += std::string(boost::beast::http::to_string(r.method));
    m.route = r.pattern;
  }
  m.status = path_matched ? 405 : 404;
  if (!path_matched) m.route = "unmatched";
  return m;
}

}  // namespace closedloop
