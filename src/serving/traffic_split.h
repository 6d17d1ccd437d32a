// Traffic splits: how a rollout takes a share of one model's traffic. The control
// plane (the rollout controller) sets a split on a model; the serving path routes
// each request that asks for the model's champion — "name" or "name@champion",
// without a version — by a deterministic hash of its request key:
//   canary: a key whose bucket (hash mod 1,000,000) is below canary_ppm is served
//           by the challenger version; the same key always lands on the same side;
//   shadow: independently, a key below shadow_ppm (another hash) is also mirrored
//           to the challenger after the champion answered; that answer is discarded.
// Requests naming a version or another alias are never split.
//
// Thread safety: Get/Route are lock-free reads of an immutable snapshot; Set and
// Clear serialize on an internal mutex (control plane only).
#pragma once

#include <atomic>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "core/status.h"
#include "serving/model_repository.h"

namespace closedloop {

enum class Arm { kChampion, kChallenger };

// Receives the outcomes of split traffic. Called on io threads: must not block.
class SplitObserver {
 public:
  virtual ~SplitObserver() = default;
  // A request of the split model answered by `arm`; ok = false for a server-side
  // failure (the 5xx an error rate counts). Latency in milliseconds.
  virtual void OnServed(Arm arm, bool ok, double latency_ms) = 0;
  // A text request to mirror to the challenger (shadow): queue it or drop it.
  virtual void Mirror(std::shared_ptr<const ModelVersion> challenger, std::string text,
                      std::string champion_label) = 0;
};

struct TrafficSplit {
  int64_t challenger_version = 0;
  uint32_t canary_ppm = 0;  // parts per million of request keys the challenger serves
  uint32_t shadow_ppm = 0;  // parts per million mirrored to the challenger
  std::shared_ptr<SplitObserver> observer;
};

// Where one request goes.
struct RoutedVersion {
  std::shared_ptr<const ModelVersion> version;
  Arm arm = Arm::kChampion;
  std::shared_ptr<const TrafficSplit> split;      // null: the model is not split
  std::shared_ptr<const ModelVersion> mirror_to;  // set: mirror this request (shadow)
};

class TrafficSplits {
 public:
  TrafficSplits();
  void Set(const std::string& model, TrafficSplit split);
  void Clear(const std::string& model);
  std::shared_ptr<const TrafficSplit> Get(std::string_view model) const;

  // Resolves `model`/`version` like ModelRepository::Resolve, applying the split of
  // the model when the request asks for its champion. `key` is the request key
  // (a customer id, else the request id). When the challenger version is not
  // loaded, the champion serves (the controller sees no challenger traffic).
  StatusOr<RoutedVersion> Route(const ModelRepository& models, std::string_view model,
                                std::string_view version, std::string_view key) const;

 private:
  using Map = std::map<std::string, std::shared_ptr<const TrafficSplit>, std::less<>>;
  std::mutex write_mu_;
  std::atomic<std::shared_ptr<const Map>> splits_;
};

// The bucket of a request key in [0, 1,000,000) for a salt (0: canary, 1: shadow).
uint32_t SplitBucket(std::string_view key, uint64_t salt);

}  // namespace closedloop
