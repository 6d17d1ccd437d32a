// RequestContext: what a route handler sees (the parsed request, path parameters,
// the request id) and fills in (status, body, headers, metric labels).
//
// Ownership: the context and the request it references live for the duration of
// one handler call on one io thread; handlers must not keep pointers into it.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/asio/any_io_executor.hpp>
#include <boost/beast/http.hpp>

#include "core/status.h"
#include "http/request_trace.h"
#include "http/websocket_handler.h"

namespace closedloop {

using HttpRequest = boost::beast::http::request<boost::beast::http::string_body>;

struct RequestContext;

// A response that a handler completes later (e.g. after a batch ran). Finish() may
// be called from any thread, exactly once: it fills the context on the
// connection's own io thread and sends the response. The connection (and the
// request the context refers to) stay alive until then.
class DeferredResponse {
 public:
  virtual ~DeferredResponse() = default;
  virtual void Finish(std::function<void(RequestContext&)> fill) = 0;
};

struct RequestContext {
  RequestContext(const HttpRequest& req, std::string_view id) : request(req), request_id(id) {}

  // Hands the response to a later DeferredResponse::Finish(); the handler then
  // returns without filling the output. Null when the caller cannot defer (the
  // handler must then answer synchronously).
  std::shared_ptr<DeferredResponse> Defer();
  std::function<std::shared_ptr<DeferredResponse>()> defer_hook;  // set by the server
  bool deferred = false;

  const HttpRequest& request;
  std::string_view request_id;
  std::vector<std::pair<std::string, std::string>> path_params;
  RequestTrace trace;                         // set by the server before the handler runs
  std::string principal;                      // the authenticated subject; empty without [auth]
  std::vector<std::string> principal_scopes;  // its scopes ("roles")
  std::string_view client_ip;                 // the peer's address (owned by the connection)
  // The connection's io thread: a handler that defers and does its own async I/O
  // (the gateway's proxy) runs it here, so completions need no cross-thread hop.
  boost::asio::any_io_executor executor;

  // Set (with status 101) by a route that upgrades to WebSocket; the server then
  // accepts the upgrade and passes the connection's messages to it.
  std::shared_ptr<WebSocketHandler> websocket;

  // Output.
  unsigned status = 200;
  std::string body;
  std::string content_type = "application/json";
  std::vector<std::pair<std::string, std::string>> headers;
  // Labels for closedloop_requests_total; empty when the route has no model.
  std::string model_label;
  std::string version_label;
  // For the audit log, filled by handlers only when `audited` (set by the server
  // when an audit sink is installed): the predicted label, the decision taken
  // (support app: auto_reply or escalate) and the SHA-256 of the model's input.
  bool audited = false;
  std::string audit_label, audit_decision, audit_input_sha256;

  std::string_view Param(std::string_view name) const;
  void Json(unsigned http_status, std::string json_body);
  // {"error": "<message>"} with the HTTP status that the Status code maps to.
  void Error(const Status& status);
};

// The one place where a StatusCode becomes an HTTP status.
unsigned HttpStatusFor(StatusCode code);
// {"error": "<message>"}
std::string ErrorBody(std::string_view message);

}  // namespace closedloop
