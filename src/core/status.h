// Status and StatusOr<T>: expected failures as values (no exceptions on the data plane).
//
// A Status is either OK or carries a code and a human-readable message that names
// the offending field or resource. Codes map to HTTP statuses in exactly one place
// (http/status_mapping.h). Both types are cheap to move and are [[nodiscard]].
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace closedloop {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,     // bad input from a client: HTTP 400
  kNotFound,            // HTTP 404
  kAlreadyExists,       // HTTP 409
  kFailedPrecondition,  // state does not allow the operation: HTTP 409
  kPayloadTooLarge,     // HTTP 413
  kUnsupportedMedia,    // HTTP 415
  kResourceExhausted,   // queue full, rate limited: HTTP 429/503
  kUnavailable,         // not ready, shutting down: HTTP 503
  kUnauthenticated,     // HTTP 401
  kPermissionDenied,    // HTTP 403
  kInternal,            // a bug or an environment failure: HTTP 500
};

std::string_view StatusCodeName(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;  // OK
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  // "NOT_FOUND: model 'x' is not loaded"
  std::string ToString() const;

  // Adds context in front of the message: "loading model x: <message>".
  Status WithContext(std::string_view context) const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
inline Status InvalidArgument(std::string m) {
  return {StatusCode::kInvalidArgument, std::move(m)};
}
inline Status NotFound(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status AlreadyExists(std::string m) { return {StatusCode::kAlreadyExists, std::move(m)}; }
inline Status FailedPrecondition(std::string m) {
  return {StatusCode::kFailedPrecondition, std::move(m)};
}
inline Status PayloadTooLarge(std::string m) {
  return {StatusCode::kPayloadTooLarge, std::move(m)};
}
inline Status UnsupportedMedia(std::string m) {
  return {StatusCode::kUnsupportedMedia, std::move(m)};
}
inline Status ResourceExhausted(std::string m) {
  return {StatusCode::kResourceExhausted, std::move(m)};
}
inline Status Unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status Unauthenticated(std::string m) {
  return {StatusCode::kUnauthenticated, std::move(m)};
}
inline Status PermissionDenied(std::string m) {
  return {StatusCode::kPermissionDenied, std::move(m)};
}
inline Status Internal(std::string m) { return {StatusCode::kInternal, std::move(m)}; }

// Holds either a T or a non-OK Status. Accessing value() of an error is a bug
// (it aborts), so callers check ok() first or use ASSIGN_OR_RETURN.
template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(Status status) : data_(std::move(status)) {  // NOLINT: implicit by design
    if (std::get<Status>(data_).ok()) {
      data_ = Status(StatusCode::kInternal, "StatusOr constructed from OK status without value");
    }
  }
  StatusOr(T value) : data_(std::move(value)) {}  // NOLINT: implicit by design

  bool ok() const { return std::holds_alternative<T>(data_); }
  Status status() const { return ok() ? Status() : std::get<Status>(data_); }

  const T& value() const& { return std::get<T>(data_); }
  T& value() & { return std::get<T>(data_); }
  T&& value() && { return std::get<T>(std::move(data_)); }
  const T& operator*() const& { return value(); }
  T& operator*() & { return value(); }
  const T* operator->() const { return &value(); }
  T* operator->() { return &value(); }

 private:
  std::variant<Status, T> data_;
};

}  // namespace closedloop

#define CL_CONCAT_INNER(a, b) a##b
#define CL_CONCAT(a, b) CL_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function if `expr` is not OK.
#define RETURN_IF_ERROR(expr)                 \
  do {                                        \
    ::closedloop::Status cl_status_ = (expr); \
    if (!cl_status_.ok()) return cl_status_;  \
  } while (0)

// ASSIGN_OR_RETURN(auto x, MakeX()); declares x from the value or returns the error.
#define ASSIGN_OR_RETURN(lhs, expr) \
  CL_ASSIGN_OR_RETURN_IMPL(CL_CONCAT(cl_statusor_, __LINE__), lhs, expr)
#define CL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                             \
  if (!tmp.ok()) return tmp.status();            \
  lhs = std::move(tmp).value()
