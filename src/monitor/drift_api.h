// DriftApi: GET /v1/drift?model=M&window=N — with `window`, a fresh report of the
// model's newest N predictions (kept); without it, the kept reports (newest first;
// a model without one is evaluated now). Without `model`: every kept report.
// Thread safety: handlers run on any io thread; the monitor is thread-safe. An
// evaluation (MMD included) runs on the io thread: tens of milliseconds.
#pragma once

#include "http/router.h"
#include "monitor/drift_monitor.h"

namespace closedloop {

class DriftApi {
 public:
  explicit DriftApi(DriftMonitor& monitor) : monitor_(monitor) {}
  void Register(Router& router);

 private:
  void Get(RequestContext& ctx);
  DriftMonitor& monitor_;
};

}  // namespace closedloop
