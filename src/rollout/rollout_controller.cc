#include "rollout/rollout_controller.h"

#include <cmath>
#include <set>

#include "core/logging.h"

namespace closedloop {

namespace {

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : "; ") + s;
  return out;
}

}  // namespace

RolloutController::RolloutController(const RolloutConfig& config,
                                     std::unique_ptr<RolloutStore> store, TrafficSplits& splits,
                                     ModelRepository& models, ModelRegistry& registry,
                                     PredictionLog& log, const Clock& clock)
    : config_(config),
      store_(std::move(store)),
      splits_(splits),
      models_(models),
      registry_(registry),
      log_(log),
      clock_(clock),
      ids_(clock) {}

RolloutController::~RolloutController() { Stop(); }

Status RolloutController::Resume() {
  ASSIGN_OR_RETURN(auto rows, store_->List("", /*active_only=*/true, 1000));
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& row : rows) {
    Active& a = active_[row.model];
    a.row = std::move(row);
    a.row.stage_started_ms = clock_.NowUnixMillis();  // fresh counts from here
    EnterStage(a);
    LogInfo("rollout resumed")
        .Kv("rollout", a.row.id)
        .Kv("model", a.row.model)
        .Kv("stage", a.row.state)
        .Kv("traffic_percent", a.row.traffic_percent);
  }
  return OkStatus();
}

StatusOr<RolloutRow> RolloutController::Start(const std::string& model,
                                              int64_t challenger_version) {
  std::lock_guard<std::mutex> lock(mu_);
  return StartLocked(model, challenger_version);
}

StatusOr<RolloutRow> RolloutController::StartLocked(const std::string& model,
                                                    int64_t challenger_version) {
  if (active_.count(model)) {
    return AlreadyExists("model '" + model + "' already has an active rollout (" +
                         active_[model].row.id + ")");
  }
  auto champion = registry_.GetVersionByAlias(model, "champion");
  if (!champion.ok()) {
    return FailedPrecondition("model '" + model +
                              "' has no @champion to compare with: " + champion.status().message());
  }
  if (champion->version == challenger_version) {
    return FailedPrecondition("version " + std::to_string(challenger_version) + " of '" + model +
                              "' is already the champion");
  }
  if (!models_.Resolve(model, std::to_string(challenger_version)).ok()) {
    return FailedPrecondition("version " + std::to_string(challenger_version) + " of '" + model +
                              "' is not served (is it registered and allowed by model.toml?)");
  }
  Active a;
  a.row.id = ids_.Next();
  a.row.model = model;
  a.row.champion_version = champion->version;
  a.row.challenger_version = challenger_version;
  a.row.created_ms = a.row.updated_ms = a.row.stage_started_ms = clock_.NowUnixMillis();
  if (config_.shadow_share > 0) {
    a.row.state = "shadow";
    a.row.step = -1;
    a.row.traffic_percent = 0;
  } else {
    a.row.state = "canary";
    a.row.step = 0;
    a.row.traffic_percent = config_.canary_steps.front();
  }
  RETURN_IF_ERROR(store_->Save(a.row, std::nullopt));
  EnterStage(a);
  LogInfo("rollout started")
      .Kv("rollout", a.row.id)
      .Kv("model", model)
      .Kv("champion", a.row.champion_version)
      .Kv("challenger", challenger_version)
      .Kv("stage", a.row.state);
  RolloutRow out = a.row;
  active_[model] = std::move(a);
  return out;
}

void RolloutController::EnterStage(Active& a) {
  bool shadow = a.row.state == "shadow";
  a.recorder = std::make_shared<StageRecorder>(shadow, clock_);
  TrafficSplit split;
  split.challenger_version = a.row.challenger_version;
  split.canary_ppm = shadow ? 0 : static_cast<uint32_t>(std::lround(a.row.traffic_percent * 1e4));
  split.shadow_ppm = shadow ? static_cast<uint32_t>(std::lround(config_.shadow_share * 1e6)) : 0;
  split.observer = a.recorder;
  splits_.Set(a.row.model, std::move(split));
}

Status RolloutController::FillScores(const RolloutRow& row, StageEvidence& e) {
  return log_.Read([&](SqliteDb& db) -> Status {
    ASSIGN_OR_RETURN(
        auto q, db.Prepare("SELECT version, COUNT(*), AVG(s), AVG(s * s) FROM (SELECT p.version "
                           "AS version, COALESCE(f.explicit_score, f.implicit_score) AS s FROM "
                           "feedback f JOIN predictions p ON p.request_id = f.request_id WHERE "
                           "f.ts_ms >= ? AND p.ts_ms >= ? AND p.model = ? AND p.version IN (?, ?)) "
                           "WHERE s IS NOT NULL GROUP BY version"));
    q.BindInt(1, row.stage_started_ms);
    q.BindInt(2, row.stage_started_ms);
    q.BindText(3, row.model);
    const std::string champion = std::to_string(row.champion_version);
    const std::string challenger = std::to_string(row.challenger_version);
    q.BindText(4, champion);
    q.BindText(5, challenger);
    for (;;) {
      ASSIGN_OR_RETURN(bool has, q.Step());
      if (!has) break;
      MeanVar m;
      m.n = q.ColumnInt(1);
      m.mean = q.ColumnDouble(2);
      double mean_sq = q.ColumnDouble(3);
      m.m2 = std::max(0.0, (mean_sq - m.mean * m.mean) * static_cast<double>(m.n));
      (q.ColumnText(0) == challenger ? e.challenger : e.champion).score = m;
    }
    return OkStatus();
  });
}

void RolloutController::Evaluate(Active& a) {
  StageEvidence e = a.recorder->Snapshot();
  if (Status s = FillScores(a.row, e); !s.ok()) {
    LogWarn("rollout: cannot read feedback scores")
        .Kv("rollout", a.row.id)
        .Kv("error", s.message());
  }
  const bool shadow = a.row.state == "shadow";
  StageDecision d = shadow ? EvaluateShadow(e, config_) : EvaluateCanary(e, config_);
  int64_t now = clock_.NowUnixMillis();
  a.row.evidence_json = EvidenceJson(e, d);
  a.row.updated_ms = now;
  RolloutDecisionRow decision{now,
                              a.row.state,
                              a.row.traffic_percent,
                              VerdictName(d.verdict),
                              Join(d.reasons),
                              a.row.evidence_json};
  if (d.verdict == Verdict::kHold) {
    if (Status s = store_->Save(a.row, std::nullopt); !s.ok()) {
      LogWarn("rollout: cannot store evidence").Kv("rollout", a.row.id).Kv("error", s.message());
    }
    return;
  }
  if (d.verdict == Verdict::kRollback) return Finish(a, "rolled_back", std::move(decision));
  // Advance: the next canary step, or promotion when it reaches 100%.
  size_t next = shadow ? 0 : static_cast<size_t>(a.row.step) + 1;
  if (next >= config_.canary_steps.size() || config_.canary_steps[next] >= 100) {
    decision.decision = "promote";
    return Finish(a, "promoted", std::move(decision));
  }
  a.row.state = "canary";
  a.row.step = static_cast<int>(next);
  a.row.traffic_percent = config_.canary_steps[next];
  a.row.stage_started_ms = now;
  if (Status s = store_->Save(a.row, decision); !s.ok()) {
    LogWarn("rollout: cannot store decision").Kv("rollout", a.row.id).Kv("error", s.message());
  }
  LogInfo("rollout advanced")
      .Kv("rollout", a.row.id)
      .Kv("model", a.row.model)
      .Kv("traffic_percent", a.row.traffic_percent)
      .Kv("evidence", decision.reasons);
  EnterStage(a);
}

void RolloutController::Finish(Active& a, const std::string& state, RolloutDecisionRow decision) {
  const std::string model = a.row.model;
  if (state == "promoted") {
    // The alias first: requests on the champion path now get the new version, and
    // the split (still routing some keys to that same version) can go after.
    Status s = registry_.SetAlias(model, "champion", a.row.challenger_version);
    if (!s.ok()) {
      LogError("rollout: cannot move @champion; rolling back")
          .Kv("rollout", a.row.id)
          .Kv("error", s.message());
      decision.decision = "rollback";
      decision.reasons += "; promotion failed: " + s.message();
      return Finish(a, "rolled_back", std::move(decision));
    }
  }
  splits_.Clear(model);
  if (auto c = registry_.GetVersionByAlias(model, "challenger");
      c.ok() && c->version == a.row.challenger_version) {
    (void)registry_.DeleteAlias(model, "challenger");
  }
  a.row.state = state;
  a.row.traffic_percent = state == "promoted" ? 100 : 0;
  a.row.updated_ms = decision.ts_ms;
  if (Status s = store_->Save(a.row, decision); !s.ok()) {
    LogError("rollout: cannot store its end").Kv("rollout", a.row.id).Kv("error", s.message());
  }
  (state == "promoted" ? LogInfo("rollout promoted") : LogWarn("rollout rolled back"))
      .Kv("rollout", a.row.id)
      .Kv("model", model)
      .Kv("version", a.row.challenger_version)
      .Kv("evidence", decision.reasons);
  active_.erase(model);  // `a` is gone after this line
}

StatusOr<RolloutRow> RolloutController::Rollback(const std::string& id, const std::string& reason) {
  return EndByHand(id, "rollback", reason);
}

StatusOr<RolloutRow> RolloutController::Promote(const std::string& id, const std::string& reason) {
  return EndByHand(id, "promote", reason);
}

StatusOr<RolloutRow> RolloutController::EndByHand(const std::string& id,
                                                  const std::string& decision,
                                                  const std::string& reason) {
  const bool promote = decision == "promote";
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& [model, a] : active_) {
    if (a.row.id != id) continue;
    StageEvidence e = a.recorder->Snapshot();
    (void)FillScores(a.row, e);
    StageDecision d;
    d.verdict = promote ? Verdict::kAdvance : Verdict::kRollback;
    d.reasons.push_back((promote ? "promoted by hand: " : "rolled back by hand: ") + reason);
    int64_t now = clock_.NowUnixMillis();
    a.row.evidence_json = EvidenceJson(e, d);
    RolloutRow row = a.row;
    Finish(a, promote ? "promoted" : "rolled_back",
           {now, row.state, row.traffic_percent, decision, d.reasons[0], row.evidence_json});
    return store_->Get(id);
  }
  ASSIGN_OR_RETURN(RolloutRow row, store_->Get(id));
  return FailedPrecondition("rollout '" + id + "' has ended (" + row.state + ")");
}

void RolloutController::AutoStart() {
  std::set<std::string> names;
  for (const ModelState& m : models_.List()) {
    if (m.ready) names.insert(m.name);
  }
  for (const auto& name : names) {
    if (active_.count(name)) continue;
    auto challenger = registry_.GetVersionByAlias(name, "challenger");
    if (!challenger.ok()) continue;
    auto seen = store_->Seen(name, challenger->version);
    if (!seen.ok() || *seen) continue;
    auto started = StartLocked(name, challenger->version);
    if (!started.ok()) {
      LogWarn("rollout: cannot start for @challenger")
          .Kv("model", name)
          .Kv("version", challenger->version)
          .Kv("error", started.status().message());
    }
  }
}

void RolloutController::Tick() {
  std::lock_guard<std::mutex> lock(mu_);
  if (config_.auto_start) AutoStart();
  std::vector<std::string> models;
  for (const auto& [m, a] : active_) models.push_back(m);
  for (const auto& m : models) Evaluate(active_.at(m));
}

void RolloutController::StartBackground() {
  bg_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(bg_mu_);
    while (!bg_stop_) {
      bg_cv_.wait_for(lock, std::chrono::milliseconds(config_.evaluate_interval_ms));
      if (bg_stop_) break;
      lock.unlock();
      Tick();
      lock.lock();
    }
  });
}

void RolloutController::Stop() {
  {
    std::lock_guard<std::mutex> lock(bg_mu_);
    bg_stop_ = true;
  }
  bg_cv_.notify_all();
  if (bg_.joinable()) bg_.join();
}

}  // namespace closedloop
