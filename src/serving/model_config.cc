#include "serving/model_config.h"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <set>
#include <sstream>

#include <toml++/toml.h>

namespace closedloop {
namespace {

Status ReadInt(const toml::table& t, std::string_view key, int64_t min, int64_t max, int64_t& out) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return OkStatus();
  if (!n->is_integer()) return InvalidArgument("'" + std::string(key) + "' must be an integer");
  int64_t v = n->value<int64_t>().value();
  if (v < min || v > max) {
    return InvalidArgument("'" + std::string(key) + "' must be between " + std::to_string(min) +
                           " and " + std::to_string(max));
  }
  out = v;
  return OkStatus();
}

Status ReadString(const toml::table& t, std::string_view key,
                  std::initializer_list<std::string_view> allowed, std::string& out) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return OkStatus();
  auto v = n->value<std::string>();
  bool ok = v.has_value() &&
            (allowed.size() == 0 || std::find(allowed.begin(), allowed.end(), *v) != allowed.end());
  if (!ok) {
    std::string names;
    for (auto a : allowed) names += (names.empty() ? "\"" : ", \"") + std::string(a) + "\"";
    return InvalidArgument("'image." + std::string(key) + "' must be " +
                           (allowed.size() == 0 ? std::string("a string") : "one of " + names));
  }
  out = *v;
  return OkStatus();
}

Status ReadChannelValues(const toml::table& t, std::string_view key, int channels, bool positive,
                         std::vector<double>& out) {
  const toml::node* n = t.get(key);
  if (n == nullptr) return OkStatus();
  const toml::array* arr = n->as_array();
  const std::string name = "'image." + std::string(key) + "'";
  if (arr == nullptr || arr->size() != static_cast<size_t>(channels)) {
    return InvalidArgument(name + " must be an array of " + std::to_string(channels) +
                           " numbers (one per channel)");
  }
  for (const auto& e : *arr) {
    auto d = e.value<double>();
    if (!d || !std::isfinite(*d) || (positive && !(*d > 0))) {
      return InvalidArgument(name + " must hold finite numbers" +
                             (positive ? std::string(" greater than 0") : std::string()));
    }
    out.push_back(*d);
  }
  return OkStatus();
}

StatusOr<ImageConfig> ParseImageConfig(const toml::table& t) {
  static const std::set<std::string_view> kKeys = {
      "width",      "height",       "channels", "layout", "json_layout", "channel_order",
      "scale",      "mean",         "std",      "input",  "output",      "embedding_output",
      "max_pixels", "thumbnail_px", "softmax"};
  for (const auto& [k, v] : t) {
    if (!kKeys.count(k.str())) {
      return InvalidArgument("unknown key 'image." + std::string(k.str()) + "'");
    }
  }
  ImageConfig c;
  if (!t.get("width") || !t.get("height")) {
    return InvalidArgument("'image.width' and 'image.height' are required");
  }
  int64_t v = 0;
  RETURN_IF_ERROR(ReadInt(t, "width", 1, 16384, v));
  c.width = static_cast<int>(v);
  RETURN_IF_ERROR(ReadInt(t, "height", 1, 16384, v));
  c.height = static_cast<int>(v);
  v = c.channels;
  RETURN_IF_ERROR(ReadInt(t, "channels", 1, 3, v));
  if (v == 2) return InvalidArgument("'image.channels' must be 1 or 3");
  c.channels = static_cast<int>(v);
  RETURN_IF_ERROR(ReadString(t, "layout", {"nchw", "nhwc"}, c.layout));
  RETURN_IF_ERROR(ReadString(t, "json_layout", {"hwc", "chw"}, c.json_layout));
  RETURN_IF_ERROR(ReadString(t, "channel_order", {"rgb", "bgr"}, c.channel_order));
  RETURN_IF_ERROR(ReadString(t, "input", {}, c.input));
  RETURN_IF_ERROR(ReadString(t, "output", {}, c.output));
  RETURN_IF_ERROR(ReadString(t, "embedding_output", {}, c.embedding_output));
  if (const toml::node* n = t.get("scale")) {
    auto d = n->value<double>();
    if (!d || !std::isfinite(*d) || !(*d > 0)) {
      return InvalidArgument("'image.scale' must be a number greater than 0");
    }
    c.scale = *d;
  }
  if (const toml::node* n = t.get("softmax")) {
    auto b = n->value<bool>();
    if (!b) return InvalidArgument("'image.softmax' must be true or false");
    c.softmax = *b;
  }
  RETURN_IF_ERROR(ReadChannelValues(t, "mean", c.channels, false, c.mean));
  RETURN_IF_ERROR(ReadChannelValues(t, "std", c.channels, true, c.std));
  RETURN_IF_ERROR(ReadInt(t, "max_pixels", 1, 1'000'000'000, c.max_pixels));
  v = c.thumbnail_px;
  RETURN_IF_ERROR(ReadInt(t, "thumbnail_px", 0, 256, v));
  c.thumbnail_px = static_cast<int>(v);
  return c;
}

}  // namespace

StatusOr<ModelConfig> ParseModelConfig(std::string_view toml_text, std::string_view source) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    std::ostringstream m;
    m << source << ":" << e.source().begin.line << ": " << e.description();
    return InvalidArgument(m.str());
  }
  static const std::set<std::string_view> kKeys = {
      "flavor",   "top_k",      "labels",    "max_text_bytes", "temperature",
      "batching", "categories", "oos_score", "oos_threshold",  "image"};
  for (const auto& [k, v] : root) {
    if (!kKeys.count(k.str())) return InvalidArgument("unknown key '" + std::string(k.str()) + "'");
  }
  ModelConfig c;
  auto flavor = root["flavor"].value<std::string>();
  if (!flavor) return InvalidArgument("'flavor' is required (e.g. flavor = \"fasttext\")");
  c.flavor = *flavor;
  int64_t v = c.top_k;
  RETURN_IF_ERROR(ReadInt(root, "top_k", 1, 1000, v));
  c.top_k = static_cast<int>(v);
  RETURN_IF_ERROR(ReadInt(root, "max_text_bytes", 1, 100'000'000, c.max_text_bytes));
  if (const toml::node* n = root.get("temperature")) {
    auto t = n->value<double>();
    if (!t || !(*t > 0) || *t > 1000) {
      return InvalidArgument("'temperature' must be a number greater than 0");
    }
    c.temperature = *t;
  }
  if (const toml::node* n = root.get("oos_score")) {
    auto name = n->value<std::string>();
    if (!name || (*name != "max_probability" && *name != "max_logit" && *name != "energy")) {
      return InvalidArgument(
          "'oos_score' must be \"max_probability\", \"max_logit\" or \"energy\"");
    }
    c.oos_score = *name;
  }
  if (const toml::node* n = root.get("oos_threshold")) {
    auto t = n->value<double>();
    if (!t || !std::isfinite(*t)) return InvalidArgument("'oos_threshold' must be a number");
    if (c.oos_score.empty()) c.oos_score = "max_probability";
    c.oos_threshold = *t;
  }
  if (const toml::node* n = root.get("labels")) {
    const toml::array* arr = n->as_array();
    if (arr == nullptr) return InvalidArgument("'labels' must be an array of strings");
    for (const auto& e : *arr) {
      auto s = e.value<std::string>();
      if (!s) return InvalidArgument("'labels' must be an array of strings");
      c.labels.push_back(*s);
    }
  }
  if (const toml::node* n = root.get("categories")) {
    const toml::table* cats = n->as_table();
    if (cats == nullptr) return InvalidArgument("'categories' must be a table");
    for (const auto& [k, val] : *cats) {
      const toml::array* arr = val.as_array();
      std::string key = "categories." + std::string(k.str());
      if (arr == nullptr) return InvalidArgument("'" + key + "' must be an array of strings");
      auto& values = c.categories[std::string(k.str())];
      for (const auto& e : *arr) {
        auto s = e.value<std::string>();
        if (!s) return InvalidArgument("'" + key + "' must be an array of strings");
        values.push_back(*s);
      }
    }
  }
  if (const toml::node* n = root.get("batching")) {
    const toml::table* b = n->as_table();
    if (b == nullptr) return InvalidArgument("'batching' must be a table");
    for (const auto& [k, val] : *b) {
      if (k.str() != "max_batch_size" && k.str() != "max_queue_delay_us" &&
          k.str() != "max_queue_size") {
        return InvalidArgument("unknown key 'batching." + std::string(k.str()) + "'");
      }
    }
    int64_t x = c.batching.max_batch_size;
    RETURN_IF_ERROR(ReadInt(*b, "max_batch_size", 1, 65536, x));
    c.batching.max_batch_size = static_cast<int>(x);
    x = c.batching.max_queue_delay_us;
    RETURN_IF_ERROR(ReadInt(*b, "max_queue_delay_us", 0, 10'000'000, x));
    c.batching.max_queue_delay_us = static_cast<int>(x);
    x = c.batching.max_queue_size;
    RETURN_IF_ERROR(ReadInt(*b, "max_queue_size", 1, 10'000'000, x));
    c.batching.max_queue_size = static_cast<int>(x);
  }
  if (const toml::node* n = root.get("image")) {
    const toml::table* t = n->as_table();
    if (t == nullptr) return InvalidArgument("'image' must be a table");
    ASSIGN_OR_RETURN(ImageConfig image, ParseImageConfig(*t));
    c.image = std::move(image);
  }
  return c;
}

StatusOr<ModelConfig> LoadModelConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("'" + path + "' cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseModelConfig(ss.str(), path);
}

float CategoryCode(const std::vector<std::string>& values, std::string_view value) {
  for (size_t i = 0; i < values.size(); ++i) {
    if (values[i] == value) return static_cast<float>(i);
  }
  return std::nanf("");
}

std::string RenderModelConfig(const ModelConfig& c) {
  toml::table root;
  root.insert("flavor", c.flavor);
  root.insert("top_k", c.top_k);
  if (c.max_text_bytes > 0) root.insert("max_text_bytes", c.max_text_bytes);
  if (c.temperature != 1.0) root.insert("temperature", c.temperature);
  if (c.oos_threshold) {
    root.insert("oos_score", c.oos_score);
    root.insert("oos_threshold", *c.oos_threshold);
  }
  if (!c.labels.empty()) {
    toml::array labels;
    for (const auto& l : c.labels) labels.push_back(l);
    root.insert("labels", std::move(labels));
  }
  if (!c.categories.empty()) {
    toml::table cats;
    for (const auto& [feature, values] : c.categories) {
      toml::array arr;
      for (const auto& v : values) arr.push_back(v);
      cats.insert(feature, std::move(arr));
    }
    root.insert("categories", std::move(cats));
  }
  toml::table batching;
  batching.insert("max_batch_size", c.batching.max_batch_size);
  batching.insert("max_queue_delay_us", c.batching.max_queue_delay_us);
  batching.insert("max_queue_size", c.batching.max_queue_size);
  root.insert("batching", std::move(batching));
  if (c.image) {
    const ImageConfig& im = *c.image;
    toml::table t;
    t.insert("width", im.width);
    t.insert("height", im.height);
    t.insert("channels", im.channels);
    t.insert("layout", im.layout);
    t.insert("json_layout", im.json_layout);
    t.insert("channel_order", im.channel_order);
    t.insert("scale", im.scale);
    auto numbers = [](const std::vector<double>& v) {
      toml::array a;
      for (double x : v) a.push_back(x);
      return a;
    };
    if (!im.mean.empty()) t.insert("mean", numbers(im.mean));
    if (!im.std.empty()) t.insert("std", numbers(im.std));
    if (!im.input.empty()) t.insert("input", im.input);
    if (!im.output.empty()) t.insert("output", im.output);
    if (im.softmax) t.insert("softmax", true);
    if (!im.embedding_output.empty()) t.insert("embedding_output", im.embedding_output);
    t.insert("max_pixels", im.max_pixels);
    t.insert("thumbnail_px", im.thumbnail_px);
    root.insert("image", std::move(t));
  }
  std::ostringstream out;
  out << root << "\n";
  return out.str();
}

}  // namespace closedloop
