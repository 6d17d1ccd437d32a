#include "app/gateway_application.h"

#include "core/json_writer.h"
#include "core/logging.h"
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
  app->RegisterRoutes();
  app->proxy_->Register(app->router_);
  app->server_ = std::make_unique<HttpServer>(config.server, app->router_, app->metrics_, clock);
  ASSIGN_OR_RETURN(app->front_, ServerFront::Install(config, clock, app->metrics_, *app->server_));
  return app;
}

void GatewayApplication::RegisterRoutes() {
  router_.Add(http::verb::get, "/v2/health/live", [](RequestContext& c) { c.status = 200; });
  router_.Add(http::verb::get, "/v2/health/ready", [this](RequestContext& c) {
    if (ready()) {
      c.status = 200;
      return;
    }
    JsonWriter w;
    w.BeginObject()
        .Key("ready")
        .Bool(false)
        .Key("reason")
        .String(shutting_down_ ? "shutting down" : "no upstream is healthy")
        .EndObject();
    c.Json(503, std::move(w).Take());
  });
  router_.Add(http::verb::get, "/metrics", [this](RequestContext& c) {
    c.status = 200;
    c.content_type = "text/plain; version=0.0.4; charset=utf-8";
    c.body = metrics_.Render();
  });
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
