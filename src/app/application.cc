#include "app/application.h"

#include "app/system_routes.h"

#include <cstdio>
#include <filesystem>
#include <sstream>

#include <simdjson.h>

#include "core/json_writer.h"
#include "core/logging.h"
#include "monitor/process_metrics.h"
#include "ui/ui_routes.h"

namespace closedloop {

namespace http = boost::beast::http;

Application::Application(const Config& config, const Clock& clock)
    : config_(config), clock_(clock) {}

Application::~Application() {
  if (server_ && !shutting_down_) Shutdown();
}

StatusOr<std::unique_ptr<Application>> Application::Create(const Config& config,
                                                           const Clock& clock) {
  std::unique_ptr<Application> app(new Application(config, clock));
  std::error_code ec;
  std::filesystem::create_directories(config.data_dir, ec);
  if (ec) return Unavailable("cannot create data dir '" + config.data_dir + "': " + ec.message());

  if (config.serving.model_repository.empty()) {  // the default place: ours to create
    std::filesystem::create_directories(config.ModelRepositoryPath(), ec);
  }
  RegisterProcessMetrics(app->metrics_, clock);
  auto* versions_gauge = app->metrics_.AddGauge("closedloop_model_versions",
                                                "Model versions by load state.", {"state"});
  app->batch_metrics_ = BatchMetricFamilies::Register(app->metrics_);
  app->models_ = std::make_unique<ModelRepository>(config.ModelRepositoryPath(), versions_gauge,
                                                   &app->batch_metrics_);
  auto states = app->models_->LoadAll();
  if (!states.ok()) return states.status();

  ASSIGN_OR_RETURN(app->log_, PredictionLog::Open(config.prediction_log, config.PredictionLogPath(),
                                                  app->metrics_));
  app->predict_api_ =
      std::make_unique<PredictApi>(config.serving, config.prediction_log, *app->models_, *app->log_,
                                   app->metrics_, clock, &app->splits_);
  app->predict_api_->Register(app->router_);
  app->stream_api_ = std::make_shared<StreamApi>(*app->predict_api_);
  app->stream_api_->Register(app->router_);
  app->oip_api_ = std::make_unique<OipApi>(config.serving, config.prediction_log, *app->models_,
                                           *app->log_, clock);
  app->oip_api_->Register(app->router_);
  app->repository_api_ = std::make_unique<RepositoryApi>(*app->models_);
  app->repository_api_->Register(app->router_);
  app->feedback_api_ =
      std::make_unique<FeedbackApi>(config.feedback, *app->log_, *app->models_, clock);
  app->feedback_api_->Register(app->router_);
  if (!config.support.rules_file.empty()) {
    ASSIGN_OR_RETURN(SupportRules rules, LoadSupportRules(config.support.rules_file));
    app->support_api_ =
        std::make_unique<SupportApi>(std::move(rules), *app->log_, *app->models_,
                                     config.prediction_log.store_inputs, clock, &app->splits_);
    app->support_api_->Register(app->router_);
  }
  ASSIGN_OR_RETURN(app->tracking_, TrackingStore::OpenInDataDir(config.data_dir, clock));
  ASSIGN_OR_RETURN(app->registry_, ModelRegistry::OpenInDataDir(
                                       config.data_dir, config.ModelRepositoryPath(), clock));
  // A registry change (new version, alias moved, deletion) reloads that model now:
  // in-flight requests finish on the version they hold, so nothing fails.
  ModelRepository* models = app->models_.get();
  app->registry_->SetChangeListener([models](const std::string& name) {
    auto loaded = models->LoadModel(name);
    if (!loaded.ok() && loaded.status().code() == StatusCode::kNotFound) {
      (void)models->UnloadModel(name);
    }
  });
  app->registry_api_ = std::make_unique<RegistryApi>(*app->registry_);
  app->registry_api_->Register(app->router_);
  app->artifacts_ = std::make_unique<ArtifactStore>(config.data_dir + "/artifacts");
  app->artifact_api_ = std::make_unique<ArtifactApi>(*app->artifacts_, *app->tracking_,
                                                     config.server.upload_limit_bytes);
  app->artifact_api_->Register(app->router_);
  app->mlflow_api_ = std::make_unique<MlflowApi>(*app->tracking_, clock);
  app->mlflow_api_->Register(app->router_);
  ASSIGN_OR_RETURN(auto rollout_store, RolloutStore::Open(config.data_dir + "/rollouts.db"));
  app->rollouts_ =
      std::make_unique<RolloutController>(config.rollout, std::move(rollout_store), app->splits_,
                                          *app->models_, *app->registry_, *app->log_, clock);
  RETURN_IF_ERROR(app->rollouts_->Resume());
  app->rollout_api_ = std::make_unique<RolloutApi>(*app->rollouts_);
  app->rollout_api_->Register(app->router_);
  PredictionLog* log = app->log_.get();
  RetrainEnv env{*app->tracking_,
                 *app->registry_,
                 [log](const std::function<Status(SqliteDb&)>& read) { return log->Read(read); },
                 config.data_dir,
                 clock,
                 config.retrain.threads};
  app->retrainer_ = std::make_unique<RetrainScheduler>(config.retrain, std::move(env));
  app->retrain_api_ = std::make_unique<RetrainApi>(*app->retrainer_, *app->registry_);
  app->retrain_api_->Register(app->router_);
  app->labeling_ =
      std::make_unique<LabelingSelector>(config.labeling, *app->models_, *app->log_, clock);
  app->labeling_api_ = std::make_unique<LabelingApi>(config.labeling, *app->log_, *app->models_,
                                                     *app->labeling_, clock);
  app->labeling_api_->Register(app->router_);
  // CRITICAL drift asks the retrainer for a new candidate (it waits while one is in rollout).
  RetrainScheduler* retrainer = app->retrainer_.get();
  ModelRegistry* registry = app->registry_.get();
  app->drift_ = std::make_unique<DriftMonitor>(
      config.monitor, *app->models_, *app->log_, clock,
      [retrainer, registry](const std::string& model, const std::string& reason) {
        if (registry->GetVersionByAlias(model, "challenger").ok()) {
          LogInfo("drift: a challenger is already in rollout; no retraining").Kv("model", model);
          return;
        }
        retrainer->Request(model, reason);
      });
  app->drift_api_ = std::make_unique<DriftApi>(*app->drift_);
  app->drift_api_->Register(app->router_);
  const std::string monitor_db = config.data_dir + "/monitor.db";
  ASSIGN_OR_RETURN(app->alerts_,
                   AlertManager::Open(monitor_db, config.alerts, clock, app->metrics_));
  if (config.slo.availability > 0 || config.slo.latency > 0) {
    ASSIGN_OR_RETURN(
        app->slo_, SloMonitor::Create(config.slo, monitor_db, app->metrics_, *app->alerts_, clock));
  }
  app->history_ = std::make_unique<MetricsHistory>(config.slo, app->metrics_, clock);
  app->slo_api_ = std::make_unique<SloApi>(app->slo_.get(), *app->alerts_, app->history_.get());
  app->slo_api_->Register(app->router_);
  // A CRITICAL drift report is an alert until a report of the model is no longer CRITICAL.
  AlertManager* alerts = app->alerts_.get();
  app->drift_->SetReportListener([alerts](const ModelDriftReport& r) {
    std::string key = "drift:" + r.model;
    Status s;
    if (r.severity == "CRITICAL") {
      std::string signals;
      for (const auto& sig : r.signals) {
        if (sig.severity == "CRITICAL") signals += (signals.empty() ? "" : ", ") + sig.name;
      }
      s = alerts->Raise({key,
                         "DriftCritical",
                         "ticket",
                         "critical drift of " + r.model + " v" + r.version + ": " + signals,
                         {{"model", r.model}, {"version", r.version}},
                         ModelDriftReportJson(r)});
    } else if (r.state == "ok") {
      s = alerts->Resolve(key);
    }
    if (!s.ok()) LogWarn("drift alert not recorded").Kv("model", r.model).Kv("error", s.message());
  });
  RegisterSystemRoutes(app->router_, app->metrics_,
                       [a = app.get()] { return a->NotReadyReason(); });
  app->server_ = std::make_unique<HttpServer>(config.server, app->router_, app->metrics_, clock);
  ASSIGN_OR_RETURN(app->front_, ServerFront::Install(config, clock, app->metrics_, *app->server_));
  RegisterUiRoutes(app->router_, app->front_->auth.admission.get(),
                   !config.server.tls_cert_file.empty());
  return app;
}

Status Application::Start() {
  RETURN_IF_ERROR(server_->Start());
  rollouts_->StartBackground();
  retrainer_->Start();
  labeling_->Start();
  drift_->Start();
  alerts_->Start();
  front_->Start();
  if (slo_) slo_->Start();
  history_->Start();
  if (config_.serving.poll_repository_ms > 0) {
    poller_ = std::make_unique<RepositoryPoller>(
        *models_, std::chrono::milliseconds(config_.serving.poll_repository_ms));
  }
  return OkStatus();
}

bool Application::ready() const {
  return !shutting_down_.load() && models_->ReadyCount() > 0 && log_->running();
}

std::string Application::NotReadyReason() const {
  if (shutting_down_.load()) return "shutting down";
  if (models_->ReadyCount() == 0) return "no model is loaded";
  if (!log_->running()) return "the prediction log writer is not running";
  return "";
}

std::string Application::StatusBlock() const {
  std::ostringstream out;
  out << "closedloop is serving at " << server_->scheme() << "://" << config_.server.host << ":"
      << port() << "\n"
      << "models:\n";
  for (const ModelState& m : models_->List()) {
    if (!m.ready) continue;
    out << "  " << m.name << " v" << m.version;
    auto v = registry_->GetModelVersion(m.name, m.version);
    if (v.ok()) {
      for (const auto& a : v->aliases) out << " @" << a;
      simdjson::dom::parser parser;
      simdjson::dom::element doc;
      if (!parser.parse(v->metrics_json).get(doc)) {
        for (const char* split : {"test", "validation"}) {
          double acc = 0, f1 = 0, ece = 0;
          if (doc[split]["accuracy"].get(acc) || doc[split]["macro_f1"].get(f1) ||
              doc[split]["ece"].get(ece)) {
            continue;
          }
          char buf[160];
          std::snprintf(buf, sizeof buf, "  %s accuracy %.3f, macro-F1 %.3f, ECE %.3f", split, acc,
                        f1, ece);
          out << buf;
          break;
        }
      }
    }
    out << "\n";
  }
  out << "data:\n"
      << "  models       " << config_.ModelRepositoryPath() << "\n"
      << "  predictions  " << config_.PredictionLogPath() << "\n"
      << "  runs, registry " << config_.data_dir << "/tracking.db\n"
      << "  rollouts     " << config_.data_dir << "/rollouts.db\n"
      << "  alerts, SLOs " << config_.data_dir << "/monitor.db\n"
      << "try:\n"
      << "  curl -s " << (config_.server.tls_cert_file.empty() ? "" : "--cacert CERT ")
      << server_->scheme() << "://" << config_.server.host << ":" << port()
      << "/v1/predict -H 'Content-Type: application/json' "
      << (config_.auth.enabled ? "-H \"X-Api-Key: $(cat " + config_.data_dir + "/admin.key)\" "
                               : std::string())
      << "-d '{\"model\":\"support-intent@champion\",\"text\":\"my card has not arrived\"}'\n";
  return out.str();
}

void Application::Shutdown() {
  if (shutting_down_.exchange(true)) return;
  LogInfo("shutting down: draining in-flight requests")
      .Kv("in_flight", server_->InFlight())
      .Kv("drain_timeout_ms", config_.server.drain_timeout_ms);
  poller_.reset();
  int64_t left = server_->Shutdown(std::chrono::milliseconds(config_.server.drain_timeout_ms));
  if (left > 0) LogWarn("drain deadline passed; requests cut off").Kv("in_flight", left);
  rollouts_->Stop();
  drift_->Stop();
  if (slo_) slo_->Stop();
  history_->Stop();
  alerts_->Stop();
  front_->Stop();           // spans and audit lines still queued
  retrainer_->Stop();       // a retraining in progress finishes first
  labeling_->Stop();        // a selection in progress finishes first
  models_->StopBatchers();  // their completions post to the (stopped, still alive) server
  log_->Stop();
  LogInfo("shutdown complete")
      .Kv("predictions_logged", log_->written())
      .Kv("predictions_dropped", log_->dropped());
}

}  // namespace closedloop
