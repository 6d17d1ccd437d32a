#include "ui/ui_routes.h"

#include <openssl/rand.h>

#include <simdjson.h>

#include <map>

#include "core/json_writer.h"
#include "core/sha256.h"
#include "ui/ui_assets.h"

namespace closedloop {

namespace http = boost::beast::http;

namespace {

constexpr const char* kCsp =
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

std::string_view ContentType(std::string_view name) {
  if (name.ends_with(".html")) return "text/html; charset=utf-8";
  if (name.ends_with(".js")) return "text/javascript; charset=utf-8";
  if (name.ends_with(".css")) return "text/css; charset=utf-8";
  if (name.ends_with(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

const UiAsset* FindAsset(std::string_view name) {
  for (const UiAsset& a : UiAssets()) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

void Secure(RequestContext& ctx, bool no_store = true) {
  ctx.headers.emplace_back("Content-Security-Policy", kCsp);
  ctx.headers.emplace_back("X-Content-Type-Options", "nosniff");
  ctx.headers.emplace_back("Referrer-Policy", "no-referrer");
  ctx.headers.emplace_back("Cache-Control", no_store ? "no-store" : "no-cache");
}

// The asset's entity tag: a hash of its bytes, computed once per process.
const std::string& AssetTag(const UiAsset& a) {
  static const std::map<std::string_view, std::string> tags = [] {
    std::map<std::string_view, std::string> out;
    for (const UiAsset& x : UiAssets()) out[x.name] = "\"" + Sha256Hex(x.bytes).substr(0, 32) + "\"";
    return out;
  }();
  return tags.at(a.name);
}

// Pages are never stored (they are the same for everyone but may change with the
// sign-in); scripts and styles are revalidated by their entity tag (304 when unchanged).
void Serve(RequestContext& ctx, std::string_view name) {
  Secure(ctx, name.ends_with(".html"));
  const UiAsset* a = FindAsset(name);
  if (a == nullptr) return ctx.Error(NotFound("no console asset '" + std::string(name) + "'"));
  if (!name.ends_with(".html")) {
    const std::string& tag = AssetTag(*a);
    ctx.headers.emplace_back("ETag", tag);
    auto match = ctx.request.find(http::field::if_none_match);
    if (match != ctx.request.end() && match->value() == tag) {
      ctx.status = 304;
      ctx.content_type = std::string(ContentType(name));
      ctx.body.clear();
      return;
    }
  }
  ctx.status = 200;
  ctx.content_type = std::string(ContentType(name));
  ctx.body = std::string(a->bytes);
}

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    return "";
  }
  static const char* kHex = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += kHex[c >> 4];
    out += kHex[c & 15];
  }
  return out;
}

std::string Cookie(std::string_view name, std::string_view value, bool http_only, bool tls,
                   bool expire) {
  std::string c = std::string(name) + "=" + std::string(value) + "; Path=/; SameSite=Strict";
  if (http_only) c += "; HttpOnly";
  if (tls) c += "; Secure";
  if (expire) c += "; Max-Age=0";
  return c;
}

}  // namespace

void RegisterUiRoutes(Router& router, AuthAdmission* auth, bool tls) {
  router.Add(http::verb::get, "/ui", [](RequestContext& c) {
    Secure(c);
    c.status = 302;
    c.headers.emplace_back("Location", "/ui/");
    c.content_type = "text/plain";
    c.body = "";
  });
  // Every console page is console.html; its script draws the page of the path.
  for (const char* page :
       {"/ui/", "/ui/models", "/ui/runs", "/ui/drift", "/ui/feedback", "/ui/rollouts"}) {
    router.Add(http::verb::get, page, [](RequestContext& c) { Serve(c, "console.html"); });
  }
  router.Add(http::verb::get, "/ui/login", [](RequestContext& c) { Serve(c, "login.html"); });
  router.Add(http::verb::get, "/ui/label", [](RequestContext& c) { Serve(c, "label.html"); });
  router.Add(http::verb::get, "/ui/assets/{name}", [](RequestContext& c) {
    std::string_view name = c.Param("name");
    if (name.ends_with(".html"))
      return c.Error(NotFound("no console asset '" + std::string(name) + "'"));
    Serve(c, name);
  });
  router.Add(http::verb::post, "/ui/login", [auth, tls](RequestContext& c) {
    Secure(c);
    if (auth == nullptr) return c.Json(200, R"({"auth":false})");
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    std::string_view token;
    if (parser.parse(c.request.body()).get(doc) || doc["token"].get_string().get(token) ||
        token.empty()) {
      return c.Error(InvalidArgument("field 'token' (an API key or a JWT) is missing"));
    }
    if (token.size() > 8192) return c.Error(InvalidArgument("field 'token' is too long"));
    auto principal = auth->VerifyToken(token);
    if (!principal.ok()) {
      return c.Json(401, ErrorBody("invalid credentials: " + principal.status().message()));
    }
    for (char ch : token) {
      if (ch <= ' ' || ch == ';' || ch == ',' || ch == '"' || ch == '\\' || ch > '~') {
        return c.Error(InvalidArgument("field 'token' has characters a cookie cannot carry"));
      }
    }
    const std::string csrf = RandomHex(32);
    if (csrf.empty()) return c.Error(Internal("no random source for the CSRF token"));
    c.headers.emplace_back("Set-Cookie", Cookie("closedloop_session", token, true, tls, false));
    c.headers.emplace_back("Set-Cookie", Cookie("closedloop_csrf", csrf, false, tls, false));
    JsonWriter w;
    w.BeginObject().Key("auth").Bool(true).Key("subject").String(principal->subject);
    w.Key("scopes").BeginArray();
    for (const auto& s : principal->scopes) w.String(s);
    w.EndArray().EndObject();
    c.Json(200, std::move(w).Take());
  });
  router.Add(http::verb::post, "/ui/logout", [tls](RequestContext& c) {
    Secure(c);
    c.headers.emplace_back("Set-Cookie", Cookie("closedloop_session", "", true, tls, true));
    c.headers.emplace_back("Set-Cookie", Cookie("closedloop_csrf", "", false, tls, true));
    c.Json(200, R"({"signed_out":true})");
  });
}

}  // namespace closedloop
