#include "feedback/support_api.h"

#include <simdjson.h>

#include <charconv>

#include "core/json_writer.h"
#include "core/sha256.h"
#include "feedback/sentiment.h"
#include "http/json_fields.h"
#include "http/query.h"
#include "serving/oos_score.h"
#include "store/annotation_store.h"

namespace closedloop {

namespace http = boost::beast::http;

namespace {

constexpr size_t kMaxInquiryBytes = 10000;

}  // namespace

SupportApi::SupportApi(SupportRules rules, PredictionLog& log, const ModelRepository& models,
                       bool store_inputs, const Clock& clock, const TrafficSplits* splits)
    : rules_(std::move(rules)),
      log_(log),
      models_(models),
      splits_(splits),
      store_inputs_(store_inputs),
      clock_(clock),
      ids_(clock) {}

void SupportApi::Register(Router& router) {
  router.Add(http::verb::post, "/v1/support/inquiries", [this](RequestContext& c) { Inquiry(c); });
  router.Add(http::verb::get, "/v1/support/escalations",
             [this](RequestContext& c) { ListEscalations(c); });
  router.Add(http::verb::post, "/v1/support/escalations/{request_id}/resolve",
             [this](RequestContext& c) { Resolve(c); });
}

void SupportApi::Inquiry(RequestContext& ctx) {
  auto start = clock_.MonotonicNow();
  auto fields = StringFields(ctx.request.body(), {"text", "customer_id"});
  if (!fields.ok()) return ctx.Error(fields.status());
  std::string text = (*fields)["text"];
  std::optional<std::string> customer;
  if (fields->count("customer_id")) customer = (*fields)["customer_id"];
  if (text.empty()) return ctx.Error(InvalidArgument("missing field 'text'"));
  if (text.size() > kMaxInquiryBytes) {
    return ctx.Error(InvalidArgument("field 'text' is longer than 10000 bytes"));
  }
  if (customer && customer->size() > 200) {
    return ctx.Error(InvalidArgument("field 'customer_id' is longer than 200 bytes"));
  }
  // The customer is the routing key: one customer sees one side of a canary.
  StatusOr<RoutedVersion> routed = RoutedVersion{};
  if (splits_ != nullptr) {
    routed = splits_->Route(models_, rules_.intent_model, "",
                            customer ? std::string_view(*customer) : ctx.request_id);
  } else if (auto v = models_.Resolve(rules_.intent_model, ""); v.ok()) {
    routed->version = std::move(v).value();
  } else {
    routed = v.status();
  }
  if (!routed.ok()) {
    return ctx.Error(Unavailable("the intent model '" + rules_.intent_model +
                                 "' is not served: " + routed.status().message()));
  }
  const ModelVersion& model = *routed->version;
  auto scores = model.backend->PredictText(text, 3);
  if (routed->split) {
    bool server_ok = scores.ok() || scores.status().code() == StatusCode::kInvalidArgument;
    routed->split->observer->OnServed(
        routed->arm, server_ok,
        std::chrono::duration<double, std::milli>(clock_.MonotonicNow() - start).count());
  }
  if (!scores.ok()) return ctx.Error(scores.status());
  if (scores->empty()) return ctx.Error(InvalidArgument("field 'text' has no words to classify"));
  const auto& labels = model.backend->labels();
  std::string intent = labels[static_cast<size_t>((*scores)[0].index)];
  double confidence = (*scores)[0].p;
  std::optional<double> sentiment = TextSentiment(models_, rules_.sentiment_model, text);
  std::vector<std::string> top_intents;
  for (const auto& s : *scores) top_intents.push_back(labels[static_cast<size_t>(s.index)]);
  // Out of scope: the model's fitted threshold on its in-scope score, or an "oos" class.
  bool out_of_scope = intent == "oos";
  auto score = ConfiguredInScopeScore(*model.backend, model.config, text, confidence);
  if (score.ok() && *score && **score < *model.config.oos_threshold) out_of_scope = true;
  SupportDecision d =
      Decide(rules_, top_intents, confidence, sentiment,
             ExplorationDraw(ctx.request_id, rules_.exploration_seed), out_of_scope);

  JsonWriter top(256);
  top.BeginArray();
  for (const auto& s : *scores) {
    top.BeginObject().Key("label").String(labels[static_cast<size_t>(s.index)]);
    top.Key("p").Double(s.p).EndObject();
  }
  top.EndArray();
  PredictionRecord rec;
  rec.request_id = std::string(ctx.request_id);
  rec.ts_ms = clock_.NowUnixMillis();
  rec.model = model.name;
  rec.version = model.version_label;
  rec.input_sha256 = Sha256Hex(text);
  if (store_inputs_) rec.input_text = text;
  rec.label = intent;
  rec.confidence = confidence;
  rec.top_k_json = top.str();
  rec.latency_ms = std::chrono::duration<double, std::milli>(clock_.MonotonicNow() - start).count();
  rec.action = d.action;
  rec.propensity = d.propensity;

  JsonWriter w(512);
  w.BeginObject().Key("request_id").String(ctx.request_id);
  w.Key("model").String(model.name).Key("version").String(model.version_label);
  w.Key("intent").String(intent).Key("confidence").Double(confidence);
  w.Key("top_intents").Raw(top.str());
  w.Key("sentiment");
  if (sentiment) {
    w.Double(*sentiment);
  } else {
    w.Null();
  }
  w.Key("decision").String(d.escalate ? "escalate" : "auto_reply");
  w.Key("reasons").BeginArray();
  std::string reasons;
  for (const auto& r : d.reasons) {
    w.String(r);
    reasons += (reasons.empty() ? "" : ",") + r;
  }
  w.EndArray();
  if (!d.escalate) {
    w.Key("reply").String(d.reply).Key("reply_intent").String(d.action);
    w.Key("explored").Bool(d.explored);
  }
  w.Key("propensity").Double(d.propensity);
  w.EndObject();
  std::string body = std::move(w).Take();
  ctx.model_label = model.name;
  ctx.version_label = model.version_label;
  if (ctx.audited) {
    ctx.audit_label = intent;
    ctx.audit_decision = d.escalate ? "escalate" : "auto_reply";
    ctx.audit_input_sha256 = rec.input_sha256;
  }
  if (routed->mirror_to) routed->split->observer->Mirror(routed->mirror_to, text, intent);
  const std::string id = rec.request_id;
  const int64_t ts = rec.ts_ms;
  log_.Append(rec);  // moves the record
  if (!d.escalate) return ctx.Json(200, std::move(body));

  // An escalation joins the human queue before the customer hears so.
  auto deferred = ctx.Defer();
  if (!deferred) return ctx.Error(Unavailable("cannot wait for the escalation to be stored"));
  auto job = [id, ts, customer, text, intent, confidence, sentiment,
              reasons](SqliteDb& db) -> Status {
    ASSIGN_OR_RETURN(auto ins, db.Prepare("INSERT INTO escalations (request_id, ts_ms, "
                                          "customer_id, text, intent, confidence, sentiment, "
                                          "reasons) VALUES (?,?,?,?,?,?,?,?)"));
    ins.BindText(1, id);
    ins.BindInt(2, ts);
    customer ? ins.BindText(3, *customer) : ins.BindNull(3);
    ins.BindText(4, text);
    ins.BindText(5, intent);
    ins.BindDouble(6, confidence);
    sentiment ? ins.BindDouble(7, *sentiment) : ins.BindNull(7);
    ins.BindText(8, reasons);
    return ins.Step().status();
  };
  auto done = [deferred, body = std::move(body)](Status s) {
    deferred->Finish([s = std::move(s), body](RequestContext& c) {
      if (!s.ok()) return c.Error(s);
      c.Json(200, body);
    });
  };
  if (!log_.AppendJob(std::move(job), std::move(done))) {
    deferred->Finish([](RequestContext& c) {
      c.headers.emplace_back("Retry-After", "1");
      c.Error(Unavailable("the escalation queue is full; retry shortly"));
    });
  }
}

void SupportApi::ListEscalations(RequestContext& ctx) {
  std::string target(ctx.request.target());
  std::string status = QueryParam(target, "status").value_or("open");
  if (status != "open" && status != "resolved" && status != "all") {
    return ctx.Error(InvalidArgument("parameter 'status' must be open, resolved or all"));
  }
  auto limit_or = QueryInt(target, "limit", 100, 1, 10000);
  if (!limit_or.ok()) return ctx.Error(limit_or.status());
  const int64_t limit = *limit_or;
  JsonWriter w;
  Status s = log_.Read([&](SqliteDb& db) -> Status {
    ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT request_id, ts_ms, customer_id, text, intent, "
                                        "confidence, sentiment, reasons, status, human_label, "
                                        "human_reply, resolved_ms FROM escalations WHERE (? = "
                                        "'all' OR status = ?) ORDER BY ts_ms, request_id LIMIT ?"));
    q.BindText(1, status);
    q.BindText(2, status);
    q.BindInt(3, limit);
    w.BeginObject().Key("escalations").BeginArray();
    for (;;) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      auto opt = [&](int i) {
        auto v = q.ColumnTextOrNull(i);
        v ? w.String(*v) : w.Null();
      };
      w.BeginObject().Key("request_id").String(q.ColumnText(0)).Key("ts_ms").Int(q.ColumnInt(1));
      w.Key("customer_id");
      opt(2);
      w.Key("text").String(q.ColumnText(3)).Key("intent").String(q.ColumnText(4));
      w.Key("confidence").Double(q.ColumnDouble(5)).Key("sentiment");
      if (q.ColumnTextOrNull(6)) {
        w.Double(q.ColumnDouble(6));
      } else {
        w.Null();
      }
      w.Key("reasons").BeginArray();
      std::string reasons = q.ColumnText(7);
      for (size_t at = 0; at < reasons.size();) {
        size_t comma = reasons.find(',', at);
        if (comma == std::string::npos) comma = reasons.size();
        w.String(reasons.substr(at, comma - at));
        at = comma + 1;
      }
      w.EndArray().Key("status").String(q.ColumnText(8)).Key("human_label");
      opt(9);
      w.Key("human_reply");
      opt(10);
      w.EndObject();
    }
    w.EndArray().EndObject();
    return OkStatus();
  });
  if (!s.ok()) return ctx.Error(s);
  ctx.Json(200, std::move(w).Take());
}

void SupportApi::Resolve(RequestContext& ctx) {
  auto fields = StringFields(ctx.request.body(), {"label", "reply"});
  if (!fields.ok()) return ctx.Error(fields.status());
  std::string label = (*fields)["label"], reply = (*fields)["reply"];
  if (label.empty()) return ctx.Error(InvalidArgument("missing field 'label' (the right intent)"));
  if (reply.empty()) return ctx.Error(InvalidArgument("missing field 'reply' (the answer sent)"));
  if (auto mv = models_.Resolve(rules_.intent_model, ""); mv.ok()) {
    const auto& labels = (*mv)->backend->labels();
    if (std::find(labels.begin(), labels.end(), label) == labels.end()) {
      return ctx.Error(InvalidArgument("field 'label': '" + label + "' is not an intent of " +
                                       rules_.intent_model));
    }
  }
  auto deferred = ctx.Defer();
  if (!deferred) return ctx.Error(Unavailable("cannot wait for the resolution to be stored"));
  std::string id(ctx.Param("request_id"));
  std::string feedback_id = ids_.Next();
  int64_t now = clock_.NowUnixMillis();
  auto intent = std::make_shared<std::string>();
  const std::string annotator = ctx.principal.empty() ? "support" : ctx.principal;
  const std::string model = rules_.intent_model;
  const std::string task_id = ids_.Next(), annotation_id = ids_.Next();
  auto job = [id, label, reply, feedback_id, now, intent, annotator, model, task_id,
              annotation_id](SqliteDb& db) -> Status {
    ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT status, intent, text, confidence FROM escalations "
                                        "WHERE request_id = ?"));
    q.BindText(1, id);
    ASSIGN_OR_RETURN(bool found, q.Step());
    if (!found) return NotFound("no escalation with request_id '" + id + "'");
    if (q.ColumnText(0) != "open") {
      return FailedPrecondition("escalation '" + id + "' is already resolved");
    }
    *intent = q.ColumnText(1);
    const std::string text = q.ColumnText(2);
    const double confidence = q.ColumnDouble(3);
    ASSIGN_OR_RETURN(auto up, db.Prepare("UPDATE escalations SET status = 'resolved', human_label "
                                         "= ?, human_reply = ?, resolved_ms = ? WHERE request_id "
                                         "= ?"));
    up.BindText(1, label);
    up.BindText(2, reply);
    up.BindInt(3, now);
    up.BindText(4, id);
    RETURN_IF_ERROR(up.Step().status());
    // The person's label, as feedback on the very prediction: a labelled example.
    ASSIGN_OR_RETURN(auto fb, db.Prepare("INSERT INTO feedback (feedback_id, request_id, ts_ms, "
                                         "label) VALUES (?, ?, ?, ?)"));
    fb.BindText(1, feedback_id);
    fb.BindText(2, id);
    fb.BindInt(3, now);
    fb.BindText(4, label);
    RETURN_IF_ERROR(fb.Step().status());
    // The same answer joins the annotation store, as a one-person labeling task.
    ASSIGN_OR_RETURN(auto existing, FindTaskByRequest(db, id));
    LabelingTask task;
    if (existing) {
      task = std::move(*existing);
    } else {
      task.task_id = task_id;
      task.model = model;
      task.request_id = id;
      task.text = text;
      task.created_ms = now;
      task.strategy = "escalation";
      task.score = 1 - confidence;
      task.predicted = *intent;
      task.overlap = 1;
      RETURN_IF_ERROR(InsertTask(db, task).status());
    }
    Annotation a;
    a.annotation_id = annotation_id;
    a.task_id = task.task_id;
    a.annotator = annotator;
    a.answer = "label";
    a.label = label;
    a.ts_ms = now;
    a.source = "escalation";
    auto added = AddAnnotation(db, a, /*max_overlap=*/task.overlap, now);
    if (!added.ok() && added.status().code() != StatusCode::kAlreadyExists) return added.status();
    return OkStatus();
  };
  auto done = [deferred, id, label, reply, feedback_id, intent](Status s) {
    deferred->Finish([=](RequestContext& c) {
      if (!s.ok()) {
        if (s.code() == StatusCode::kFailedPrecondition) {
          return c.Json(409, ErrorBody(s.message()));
        }
        return c.Error(s);
      }
      JsonWriter w;
      w.BeginObject().Key("request_id").String(id).Key("status").String("resolved");
      w.Key("label").String(label).Key("reply").String(reply);
      w.Key("feedback_id").String(feedback_id);
      w.Key("model_agreed").Bool(*intent == label).EndObject();
      c.Json(200, std::move(w).Take());
    });
  };
  if (!log_.AppendJob(std::move(job), std::move(done))) {
    deferred->Finish([](RequestContext& c) {
      c.headers.emplace_back("Retry-After", "1");
      c.Error(Unavailable("the queue is full; retry shortly"));
    });
  }
}

}  // namespace closedloop
