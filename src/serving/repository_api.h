// RepositoryApi: Triton's model repository extension over HTTP.
//   POST /v2/repository/index                    every model version and its state, also
//        model directories not loaded (state UNAVAILABLE, reason "unloaded", version
//        omitted when the directory has no version); body {"ready": true} keeps only the
//        versions that serve. Empty body or {} = all.
//   POST /v2/repository/models/{m}/load          (re)load a model from its directory
//   POST /v2/repository/models/{m}/unload        stop serving a model
// Load answers 200 when every wanted version serves, 400 naming the versions that
// failed (the others, and any previous load of a broken version, keep serving),
// 404 when the directory does not exist.
//
// RepositoryPoller: the --poll-repository option; a thread that calls PollOnce()
// every interval until destroyed. Thread safety: both only call the repository's
// thread-safe mutators.
#pragma once

#include <chrono>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "http/router.h"
#include "serving/model_repository.h"

namespace closedloop {

class RepositoryApi {
 public:
  explicit RepositoryApi(ModelRepository& models) : models_(models) {}
  void Register(Router& router);

 private:
  ModelRepository& models_;
};

class RepositoryPoller {
 public:
  RepositoryPoller(ModelRepository& models, std::chrono::milliseconds interval);
  ~RepositoryPoller();  // stops and joins the thread

 private:
  void Run();
  ModelRepository& models_;
  const std::chrono::milliseconds interval_;
  std::mutex mu_;  // guards stop_
  std::condition_variable cv_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace closedloop
