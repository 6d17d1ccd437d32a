// RolloutApi: the HTTP routes of the rollout controller.
//   GET  /v1/rollouts?model=&state=active|all&limit=N   newest first, latest evidence
//   GET  /v1/rollouts/{id}                              with every decision and its evidence
//   POST /v1/rollouts {model, version}                  start (201); 409 when one is active,
//                                                       the version is the champion or not served
//   POST /v1/rollouts/{id}/rollback {reason?}           roll back by hand; 409 when ended
//   POST /v1/rollouts/{id}/promote {reason?}            promote by hand (now); 409 when ended
// Thread safety: handlers run on any io thread; the controller serializes.
#pragma once

#include "http/router.h"
#include "rollout/rollout_controller.h"

namespace closedloop {

class RolloutApi {
 public:
  explicit RolloutApi(RolloutController& controller) : controller_(controller) {}
  void Register(Router& router);

 private:
  void List(RequestContext& ctx);
  void Get(RequestContext& ctx);
  void Start(RequestContext& ctx);
  void End(RequestContext& ctx, bool promote);  // POST .../rollback or .../promote
  RolloutController& controller_;
};

// The JSON of a rollout (decisions included when the row has them).
std::string RolloutJson(const RolloutRow& r, bool with_decisions);

}  // namespace closedloop
