// libFuzzer target: HTTP request handling. Bytes go through Beast's request
// parser with the server's limits, then every complete request (pipelined ones
// too) through the server's real Dispatch over the real routes (/v1/predict,
// /v2/..., health, metrics) with a real model repository and prediction log.
// Set CLOSEDLOOP_FUZZ_MODELS to a model repository to exercise inference too.
#include <cstdlib>
#include <filesystem>
#include <memory>

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http.hpp>

#include "core/clock.h"
#include "http/router.h"
#include "http/session.h"
#include "monitor/metrics.h"
#include "serving/model_repository.h"
#include "serving/oip_api.h"
#include "serving/predict_api.h"
#include "store/prediction_log.h"

namespace {

namespace http = boost::beast::http;
using namespace closedloop;

struct World {
  World() {
    dir = std::filesystem::temp_directory_path() / ("cl-fuzz-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir / "models");
    const char* models_env = std::getenv("CLOSEDLOOP_FUZZ_MODELS");
    models = std::make_unique<ModelRepository>(
        models_env && *models_env ? models_env : (dir / "models").string());
    (void)models->LoadAll();
    config.body_limit_bytes = 64 * 1024;
    PredictionLogConfig log_config;
    log = std::move(PredictionLog::Open(log_config, (dir / "p.db").string(), metrics).value());
    predict = std::make_unique<PredictApi>(serving, log_config, *models, *log, metrics,
                                           SystemClock::Get());
    oip = std::make_unique<OipApi>(serving, log_config, *models, *log, SystemClock::Get());
    predict->Register(router);
    oip->Register(router);
    router.Add(http::verb::get, "/metrics",
               [this](RequestContext& c) { c.body = metrics.Render(); });
    shared = std::make_unique<ServerShared>(config, router, metrics, SystemClock::Get());
  }
  std::filesystem::path dir;
  ServerConfig config;
  ServingConfig serving;
  MetricsRegistry metrics;
  Router router;
  std::unique_ptr<ModelRepository> models;
  std::unique_ptr<PredictionLog> log;
  std::unique_ptr<PredictApi> predict;
  std::unique_ptr<OipApi> oip;
  std::unique_ptr<ServerShared> shared;
};

World& TheWorld() {
  static World* w = new World();  // lives for the whole fuzzing process
  return *w;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  World& w = TheWorld();
  boost::beast::flat_buffer buffer;
  auto in = buffer.prepare(size);
  std::memcpy(in.data(), data, size);
  buffer.commit(size);
  for (int i = 0; i < 8 && buffer.size() > 0; ++i) {  // up to 8 pipelined requests
    http::request_parser<http::string_body> parser;
    parser.header_limit(16 * 1024);
    parser.body_limit(w.config.body_limit_bytes);
    parser.eager(true);
    boost::beast::error_code ec;
    size_t used = parser.put(buffer.data(), ec);
    if (ec == http::error::need_more) break;
    if (ec) break;  // a protocol error: the server answers 400/413/431 and closes
    buffer.consume(used);
    if (!parser.is_done()) {
      parser.put_eof(ec);
      if (ec || !parser.is_done()) break;
    }
    Exchange ex;
    ex.request = parser.release();
    if (!w.shared->Dispatch(ex)) __builtin_trap();  // no route defers without a hook
    if (ex.status < 100 || ex.status > 599) __builtin_trap();
    if (ex.head.find("\r\nContent-Type: ") == std::string::npos) __builtin_trap();
    if (!ex.head.ends_with("\r\n\r\n")) __builtin_trap();
  }
  return 0;
}
