// AuditSink: where the server hands every answered request for the audit log
// (gateway/audit_log.h). Record is called on the io thread that answered, after
// the response is built; it must not block (queue and return).
#pragma once

#include <cstdint>
#include <string_view>

namespace closedloop {

struct AuditRecord {
  int64_t unix_ms = 0;
  std::string_view request_id, principal, client_ip, method, route, target;
  std::string_view model, version, label, decision;
  std::string_view input_sha256;  // of the model's input; "" = hash `body`
  std::string_view body;          // the request body
  unsigned status = 0;
  double latency_ms = 0;
};

class AuditSink {
 public:
  virtual ~AuditSink() = default;
  virtual void Record(const AuditRecord& record) = 0;
};

}  // namespace closedloop
