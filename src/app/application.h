// Application: wires the components of one closedloop process (all roles) from a
// Config: model repository, prediction log, metrics, routes and the HTTP server.
//
// Lifecycle: Create() loads models and opens storage (errors are returned, and a
// model that fails to load is reported but does not fail Create); Start() begins
// serving; Shutdown() turns readiness off, stops accepting, drains in-flight
// requests until server.drain_timeout_ms, then flushes and closes the prediction
// log. Thread safety: Create/Start/Shutdown from one thread; ready() from any.
#pragma once

#include <atomic>
#include <memory>

#include "app/server_front.h"
#include "core/clock.h"
#include "core/config.h"
#include "core/status.h"
#include "feedback/feedback_api.h"
#include "feedback/support_api.h"
#include "http/router.h"
#include "http/server.h"
#include "learn/labeling_api.h"
#include "learn/labeling_selector.h"
#include "learn/retrain_api.h"
#include "learn/retrain_scheduler.h"
#include "monitor/alert_manager.h"
#include "monitor/drift_api.h"
#include "monitor/drift_monitor.h"
#include "monitor/metrics.h"
#include "monitor/metrics_history.h"
#include "monitor/slo_api.h"
#include "monitor/slo_monitor.h"
#include "rollout/rollout_api.h"
#include "rollout/rollout_controller.h"
#include "serving/model_repository.h"
#include "serving/oip_api.h"
#include "serving/predict_api.h"
#include "serving/repository_api.h"
#include "serving/stream_api.h"
#include "serving/traffic_split.h"
#include "store/prediction_log.h"
#include "tracking/artifact_api.h"
#include "tracking/mlflow_api.h"
#include "tracking/model_registry.h"
#include "tracking/registry_api.h"
#include "tracking/tracking_store.h"

namespace closedloop {

class Application {
 public:
  // `clock` must outlive the application.
  static StatusOr<std::unique_ptr<Application>> Create(const Config& config, const Clock& clock);
  ~Application();

  Status Start();
  uint16_t port() const { return server_->port(); }
  // Ready: at least one model loaded, the prediction log writer running, not draining.
  bool ready() const;
  std::string NotReadyReason() const;
  void Shutdown();
  // What `closedloop up` prints once ready: URL, served models with versions,
  // aliases and test metrics, where the data lives, a first request to try.
  std::string StatusBlock() const;

 private:
  Application(const Config& config, const Clock& clock);

  const Config config_;
  const Clock& clock_;
  MetricsRegistry metrics_;
  BatchMetricFamilies batch_metrics_;
  Router router_;
  TrafficSplits splits_;  // set by the rollout controller, read by the serving APIs
  std::unique_ptr<ModelRepository> models_;
  std::unique_ptr<PredictionLog> log_;
  std::unique_ptr<PredictApi> predict_api_;
  std::unique_ptr<OipApi> oip_api_;
  std::shared_ptr<StreamApi> stream_api_;  // shared with the WebSocket connections
  std::unique_ptr<RepositoryApi> repository_api_;
  std::unique_ptr<FeedbackApi> feedback_api_;
  std::unique_ptr<SupportApi> support_api_;  // only with support.rules_file
  std::unique_ptr<TrackingStore> tracking_;
  std::unique_ptr<ModelRegistry> registry_;
  std::unique_ptr<RegistryApi> registry_api_;
  std::unique_ptr<MlflowApi> mlflow_api_;
  std::unique_ptr<ArtifactStore> artifacts_;
  std::unique_ptr<ArtifactApi> artifact_api_;
  std::unique_ptr<RolloutController> rollouts_;
  std::unique_ptr<RolloutApi> rollout_api_;
  std::unique_ptr<RetrainScheduler> retrainer_;
  std::unique_ptr<RetrainApi> retrain_api_;
  std::unique_ptr<LabelingSelector> labeling_;
  std::unique_ptr<LabelingApi> labeling_api_;
  std::unique_ptr<DriftMonitor> drift_;
  std::unique_ptr<DriftApi> drift_api_;
  std::unique_ptr<AlertManager> alerts_;
  std::unique_ptr<SloMonitor> slo_;          // null when both SLO objectives are 0
  std::unique_ptr<MetricsHistory> history_;  // the overview's request-rate/latency history
  std::unique_ptr<SloApi> slo_api_;
  std::unique_ptr<ServerFront> front_;        // auth, rate limits, tracing, audit: as configured
  std::unique_ptr<RepositoryPoller> poller_;  // only with serving.poll_repository_ms > 0
  std::unique_ptr<HttpServer> server_;
  std::atomic<bool> shutting_down_{false};
};

}  // namespace closedloop
