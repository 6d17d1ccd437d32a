#include "app/system_routes.h"

#include "core/json_writer.h"

namespace closedloop {

namespace http = boost::beast::http;

void RegisterSystemRoutes(Router& router, MetricsRegistry& metrics,
                          std::function<std::string()> not_ready_reason) {
  router.Add(http::verb::get, "/v2/health/live", [](RequestContext& c) { c.status = 200; });
  router.Add(http::verb::get, "/v2/health/ready",
             [reason = std::move(not_ready_reason)](RequestContext& c) {
               const std::string why = reason();
               if (why.empty()) {
                 c.status = 200;
                 return;
               }
               JsonWriter w;
               w.BeginObject().Key("ready").Bool(false).Key("reason").String(why).EndObject();
               c.Json(503, std::move(w).Take());
             });
  router.Add(http::verb::get, "/metrics", [&metrics](RequestContext& c) {
    c.status = 200;
    c.content_type = "text/plain; version=0.0.4; charset=utf-8";
    c.body = metrics.Render();
  });
}

}  // namespace closedloop
