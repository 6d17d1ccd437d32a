// Request and reply helpers shared by the MLflow REST handlers (tracking and
// registry): parameters from a JSON body (POST/PATCH/DELETE) or the query string
// (GET), MLflow's error format, and the endpoint wrapper that turns a Status into
// it. Header-only; every function is thread-safe (no shared state).
#pragma once

#include <charconv>
#include <cmath>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <simdjson.h>

#include "core/json_writer.h"
#include "core/status.h"
#include "http/query.h"
#include "http/request_context.h"
#include "http/router.h"
#include "tracking/tracking_store.h"

namespace closedloop::mlflow_rest {

namespace http = boost::beast::http;

inline constexpr std::string_view kPrefix = "/api/2.0/mlflow/";

inline void MlflowError(RequestContext& ctx, const Status& s) {
  std::string_view code = "INTERNAL_ERROR";
  unsigned status = 500;
  switch (s.code()) {
    case StatusCode::kNotFound:
      code = "RESOURCE_DOES_NOT_EXIST", status = 404;
      break;
    case StatusCode::kAlreadyExists:
      code = "RESOURCE_ALREADY_EXISTS", status = 400;
      break;
    case StatusCode::kInvalidArgument:
      code = "INVALID_PARAMETER_VALUE", status = 400;
      break;
    default:
      break;
  }
  JsonWriter w;
  w.BeginObject().Key("error_code").String(code).Key("message").String(s.message()).EndObject();
  ctx.Json(status, std::move(w).Take());
}

// A request's parameters: the JSON body (POST) or the query string (GET).
class Params {
 public:
  static StatusOr<Params> From(const RequestContext& ctx) {
    Params p;
    p.target_ = std::string(ctx.request.target());
    if (ctx.request.method() == http::verb::get) return p;
    const std::string& body = ctx.request.body();
    std::string_view trimmed = body;
    while (!trimmed.empty() && std::isspace(static_cast<unsigned char>(trimmed.front()))) {
      trimmed.remove_prefix(1);
    }
    p.parser_ = std::make_unique<simdjson::dom::parser>();
    if (trimmed.empty()) {
      p.has_body_ = false;
      return p;
    }
    if (auto e = p.parser_->parse(body).get(p.doc_)) {
      return InvalidArgument(std::string("malformed JSON: ") + simdjson::error_message(e));
    }
    if (!p.doc_.is_object()) return InvalidArgument("request body must be a JSON object");
    p.has_body_ = true;
    return p;
  }

  std::optional<simdjson::dom::element> Field(std::string_view key) const {
    if (!has_body_) return std::nullopt;
    simdjson::dom::element e;
    if (doc_[key].get(e) || e.is_null()) return std::nullopt;
    return e;
  }

  StatusOr<std::optional<std::string>> String(std::string_view key) const {
    if (!parser_) return QueryParam(target_, key);
    auto e = Field(key);
    if (!e) return QueryParam(target_, key);  // e.g. DELETE with a query string
    std::string_view s;
    if (e->get(s)) {
      int64_t n = 0;
      if (!e->get(n)) return std::optional<std::string>(std::to_string(n));
      return InvalidArgument("field '" + std::string(key) + "' must be a string");
    }
    return std::optional<std::string>(std::string(s));
  }

  StatusOr<std::string> Required(std::string_view key) const {
    ASSIGN_OR_RETURN(auto v, String(key));
    if (!v || v->empty())
      return InvalidArgument("missing value for required parameter '" + std::string(key) + "'");
    return *v;
  }

  // int64 given as a number or a string of digits (in the body or the query string).
  StatusOr<std::optional<int64_t>> Int64(std::string_view key) const {
    std::optional<std::string> text;
    auto e = parser_ ? Field(key) : std::nullopt;
    if (e) {
      int64_t n = 0;
      double d = 0;
      std::string_view s;
      if (!e->get(n)) return std::optional<int64_t>(n);
      if (!e->get(d) && std::floor(d) == d && std::fabs(d) < 9e18) {
        return std::optional<int64_t>(static_cast<int64_t>(d));
      }
      if (e->get(s)) {
        return InvalidArgument("field '" + std::string(key) +
                               "' must be an integer (number or string)");
      }
      text = std::string(s);
    } else {
      text = QueryParam(target_, key);
      if (!text) return std::optional<int64_t>();
    }
    int64_t n = 0;
    auto [ptr, ec] = std::from_chars(text->data(), text->data() + text->size(), n);
    if (ec != std::errc() || ptr != text->data() + text->size()) {
      return InvalidArgument("field '" + std::string(key) + "' must be an integer, not '" + *text +
                             "'");
    }
    return std::optional<int64_t>(n);
  }

  StatusOr<double> Double(simdjson::dom::element e, std::string_view key) const {
    double d = 0;
    int64_t n = 0;
    std::string_view s;
    if (!e.get(d)) return d;
    if (!e.get(n)) return static_cast<double>(n);
    if (!e.get(s)) {
      if (s == "NaN") return std::nan("");
      char* end = nullptr;
      std::string str(s);
      d = std::strtod(str.c_str(), &end);
      if (!str.empty() && *end == '\0') return d;
    }
    return InvalidArgument("field '" + std::string(key) + "' must be a number");
  }

  // [{"key": k, "value": v}, ...]
  StatusOr<KeyValues> Pairs(std::string_view key) const {
    KeyValues out;
    auto e = Field(key);
    if (!e) return out;
    simdjson::dom::array arr;
    if (e->get(arr)) return InvalidArgument("field '" + std::string(key) + "' must be an array");
    for (auto item : arr) {
      std::string_view k, v;
      if (item["key"].get(k))
        return InvalidArgument("each of '" + std::string(key) + "' needs a string 'key'");
      if (item["value"].get(v)) {
        int64_t n = 0;
        double d = 0;
        if (!item["value"].get(n)) {
          out.emplace_back(std::string(k), std::to_string(n));
          continue;
        }
        if (!item["value"].get(d)) {
          JsonWriter w(32);
          w.Double(d);
          out.emplace_back(std::string(k), w.str());
          continue;
        }
        return InvalidArgument("'" + std::string(key) + "' entry '" + std::string(k) +
                               "' needs a 'value'");
      }
      out.emplace_back(std::string(k), std::string(v));
    }
    return out;
  }

  StatusOr<std::vector<std::string>> Strings(std::string_view key) const {
    std::vector<std::string> out;
    if (!parser_) {
      if (auto v = QueryParam(target_, key)) out.push_back(*v);
      return out;
    }
    auto e = Field(key);
    if (!e) return out;
    simdjson::dom::array arr;
    if (e->get(arr))
      return InvalidArgument("field '" + std::string(key) + "' must be an array of strings");
    for (auto item : arr) {
      std::string_view s;
      int64_t n = 0;
      if (!item.get(s)) {
        out.emplace_back(s);
      } else if (!item.get(n)) {
        out.push_back(std::to_string(n));
      } else {
        return InvalidArgument("field '" + std::string(key) + "' must be an array of strings");
      }
    }
    return out;
  }

  StatusOr<std::string> RunId() const {
    ASSIGN_OR_RETURN(auto id, String("run_id"));
    if (!id || id->empty()) {
      ASSIGN_OR_RETURN(id, String("run_uuid"));
    }
    if (!id || id->empty()) return InvalidArgument("missing value for required parameter 'run_id'");
    return *id;
  }

 private:
  std::string target_;
  std::unique_ptr<simdjson::dom::parser> parser_;
  simdjson::dom::element doc_;
  bool has_body_ = false;
};

inline void WritePairs(JsonWriter& w, const KeyValues& kv) {
  w.BeginArray();
  for (const auto& [k, v] : kv)
    w.BeginObject().Key("key").String(k).Key("value").String(v).EndObject();
  w.EndArray();
}

// 200 with {"<key>": <what write() writes>}.
template <typename F>
Status Reply(RequestContext& c, std::string_view key, F write) {
  JsonWriter w;
  w.BeginObject().Key(key);
  write(w);
  w.EndObject();
  c.Json(200, std::move(w).Take());
  return OkStatus();
}

// 200 with {} (MLflow's answer to the logging endpoints).
inline Status Done(RequestContext& c) {
  c.Json(200, "{}");
  return OkStatus();
}

// Runs `body` with parsed parameters; a non-OK Status becomes MLflow's error format.
template <typename F>
Handler Endpoint(F body) {
  return [body](RequestContext& ctx) {
    auto params = Params::From(ctx);
    if (!params.ok()) return MlflowError(ctx, params.status());
    Status s = body(ctx, *params);
    if (!s.ok()) MlflowError(ctx, s);
  };
}

}  // namespace closedloop::mlflow_rest
