#include "serving/traffic_split.h"

namespace closedloop {

TrafficSplits::TrafficSplits() : splits_(std::make_shared<const Map>()) {}

void TrafficSplits::Set(const std::string& model, TrafficSplit split) {
  std::lock_guard<std::mutex> lock(write_mu_);
  auto next = std::make_shared<Map>(*splits_.load());
  (*next)[model] = std::make_shared<const TrafficSplit>(std::move(split));
  splits_.store(std::move(next));
}

void TrafficSplits::Clear(const std::string& model) {
  std::lock_guard<std::mutex> lock(write_mu_);
  auto next = std::make_shared<Map>(*splits_.load());
  next->erase(model);
  splits_.store(std::move(next));
}

std::shared_ptr<const TrafficSplit> TrafficSplits::Get(std::string_view model) const {
  auto snap = splits_.load();
  auto it = snap->find(model);
  return it == snap->end() ? nullptr : it->second;
}

uint32_t SplitBucket(std::string_view key, uint64_t salt) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a over salt and key, splitmix64 finish
  for (int i = 0; i < 8; ++i) h = (h ^ ((salt >> (8 * i)) & 0xff)) * 1099511628211ULL;
  for (unsigned char c : key) h = (h ^ c) * 1099511628211ULL;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return static_cast<uint32_t>(h % 1000000);
}

StatusOr<RoutedVersion> TrafficSplits::Route(const ModelRepository& models, std::string_view model,
                                             std::string_view version, std::string_view key) const {
  RoutedVersion out;
  std::string_view name = model.substr(0, model.find('@'));
  bool champion_request =
      version.empty() && (name.size() == model.size() || model.substr(name.size()) == "@champion");
  if (champion_request) out.split = Get(name);
  if (out.split) {
    const TrafficSplit& s = *out.split;
    std::string v = std::to_string(s.challenger_version);
    auto challenger = models.Resolve(name, v);
    if (challenger.ok()) {
      if (SplitBucket(key, 0) < s.canary_ppm) {
        out.version = std::move(challenger).value();
        out.arm = Arm::kChallenger;
        return out;
      }
      if (SplitBucket(key, 1) < s.shadow_ppm) out.mirror_to = std::move(challenger).value();
    }
  }
  // With a split, a bare name means the champion too (not the newest version,
  // which is the challenger being rolled out).
  if (out.split && name.size() == model.size()) {
    ASSIGN_OR_RETURN(out.version, models.Resolve(std::string(name) + "@champion", version));
  } else {
    ASSIGN_OR_RETURN(out.version, models.Resolve(model, version));
  }
  return out;
}

}  // namespace closedloop
