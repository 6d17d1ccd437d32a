// SupportApi: the reference application, AI customer support.
//   POST /v1/support/inquiries {text, customer_id?} → intent, calibrated confidence,
//     top intents, sentiment, decision auto_reply (with the intent's reply) or
//     escalate (with every reason); the inquiry is logged as a prediction under the
//     response's request_id, so feedback can name it. An escalation is answered
//     once it is stored in the human queue.
//   GET /v1/support/escalations?status=open|resolved|all&limit=N → the queue, oldest first.
//   POST /v1/support/escalations/{request_id}/resolve {label, reply} → the person's
//     answer; their label is stored as feedback on the prediction (a labelled
//     example for retraining) in the same transaction. 404 unknown, 409 resolved.
// The intent model follows its traffic split (a rollout), keyed by customer_id
// (else the request id). Thread safety: handlers run on any io thread; the rules are immutable.
#pragma once

#include "core/clock.h"
#include "core/ulid.h"
#include "feedback/support_rules.h"
#include "http/router.h"
#include "serving/model_repository.h"
#include "serving/traffic_split.h"
#include "store/prediction_log.h"

namespace closedloop {

class SupportApi {
 public:
  SupportApi(SupportRules rules, PredictionLog& log, const ModelRepository& models,
             bool store_inputs, const Clock& clock, const TrafficSplits* splits = nullptr);
  void Register(Router& router);

 private:
  void Inquiry(RequestContext& ctx);
  void ListEscalations(RequestContext& ctx);
  void Resolve(RequestContext& ctx);

  const SupportRules rules_;
  PredictionLog& log_;
  const ModelRepository& models_;
  const TrafficSplits* splits_;  // optional: rollouts split the intent model's traffic
  const bool store_inputs_;
  const Clock& clock_;
  UlidGenerator ids_;
};

}  // namespace closedloop
