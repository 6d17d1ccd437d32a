#include "app/gateway_application.h"

#include "app/system_routes.h"

#include "core/logging.h"
#include "gateway/stream_relay.h"
#include "monitor/process_metrics.h"

namespace closedloop {

namespace http = boost::beast::http;

GatewayApplication::GatewayApplication(const Config& config) : config_(config) {}

GatewayApplication::~GatewayApplication() {
  if (server_ && !shutting_down_) Shutdown();
}

StatusOr<std::unique_ptr<GatewayApplication>> GatewayApplication::Create(const Config& config,
                                                                         const Clock& clock) {
  if (config.gateway.upstreams.empty()) {
    return InvalidArgument("the gateway role needs at least one upstream (--upstream URL)");
  }
  RETURN_IF_ERROR(ValidateGatewayConfig(config.gateway));
  std::unique_ptr<GatewayApplication> app(new GatewayApplication(config));
  RegisterProcessMetrics(app->metrics_, clock);
  auto families = UpstreamMetricFamilies::Register(app->metrics_);
  std::vector<std::unique_ptr<Upstream>> upstreams;
  for (const std::string& url : config.gateway.upstreams) {
    ASSIGN_OR_RETURN(auto u, Upstream::Create(url, config.gateway, clock, families));
    for (const auto& other : upstreams) {
      if (other->name() == u->name())
        return InvalidArgument("upstream '" + url + "' is listed twice");
    }
    upstreams.push_back(std::move(u));
  }
  app->proxy_ = std::make_unique<Proxy>(config.gateway, std::move(upstreams), app->metrics_, clock);
  app->health_ = std::make_unique<HealthChecker>(config.gateway, app->proxy_->upstreams());
  RegisterSystemRoutes(app->router_, app->metrics_,
                       [a = app.get()] { return a->NotReadyReason(); });
  std::make_shared<StreamRelay>(*app->proxy_)->Register(app->router_);
  app->proxy_->Register(app->router_);
  app->server_ = std::make_unique<HttpServer>(config.server, app->router_, app->metrics_, clock);
  ASSIGN_OR_RETURN(app->front_, ServerFront::Install(config, clock, app->metrics_, *app->server_));
  return app;
}

std::string GatewayApplication::NotReadyReason() const {
  if (shutting_down_.load()) return "shutting down";
  if (proxy_->HealthyCount() == 0) return "no upstream is healthy";
  return "";
}

Status GatewayApplication::Start() {
  health_->CheckOnce(/*first=*/true);
  for (Upstream* u : proxy_->upstreams()) {
    if (!u->healthy()) LogWarn("upstream not ready at start").Kv("upstream", u->name());
  }
  RETURN_IF_ERROR(server_->Start());
  health_->Start();
  front_->Start();
  LogInfo("gateway started")
      .Kv("upstreams", static_cast<int64_t>(config_.gateway.upstreams.size()))
      .Kv("healthy", static_cast<int64_t>(proxy_->HealthyCount()));
  return OkStatus();
}

bool GatewayApplication::ready() const {
  return !shutting_down_.load() && proxy_->HealthyCount() > 0;
}

void GatewayApplication::Shutdown() {
  if (shutting_down_.exchange(true)) return;
  LogInfo("shutting down: draining in-flight requests").Kv("in_flight", server_->InFlight());
  int64_t left = server_->Shutdown(std::chrono::milliseconds(config_.server.drain_timeout_ms));
  if (left > 0) LogWarn("drain deadline passed; requests cut off").Kv("in_flight", left);
  health_->Stop();
  front_->Stop();
  LogInfo("shutdown complete");
}

}  // namespace closedloop
