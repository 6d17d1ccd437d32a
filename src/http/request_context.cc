#include "http/request_context.h"

#include "core/json_writer.h"

namespace closedloop {

std::string_view RequestContext::Param(std::string_view name) const {
  for (const auto& [k, v] : path_params) {
    if (k == name) return v;
  }
  return {};
}

std::shared_ptr<DeferredResponse> RequestContext::Defer() {
  if (!defer_hook) return nullptr;  // no connection to complete later: answer synchronously
  deferred = true;
  return defer_hook();
}

void RequestContext::Json(unsigned http_status, std::string json_body) {
  status = http_status;
  body = std::move(json_body);
  content_type = "application/json";
}

void RequestContext::Error(const Status& s) {
  Json(HttpStatusFor(s.code()), ErrorBody(s.message()));
}

unsigned HttpStatusFor(StatusCode code) {
  switch (code) {
    case StatusCode::kOk:
      return 200;
    case StatusCode::kInvalidArgument:
      return 400;
    case StatusCode::kUnauthenticated:
      return 401;
    case StatusCode::kPermissionDenied:
      return 403;
    case StatusCode::kNotFound:
      return 404;
    case StatusCode::kAlreadyExists:
      return 409;
    case StatusCode::kFailedPrecondition:
      return 409;
    case StatusCode::kPayloadTooLarge:
      return 413;
    case StatusCode::kUnsupportedMedia:
      return 415;
    case StatusCode::kResourceExhausted:
      return 429;
    case StatusCode::kUnavailable:
      return 503;
    case StatusCode::kInternal:
      return 500;
  }
  return 500;
}

std::string ErrorBody(std::string_view message) {
  JsonWriter w;
  w.BeginObject().Key("error").String(message).EndObject();
  return std::move(w).Take();
}

}  // namespace closedloop
