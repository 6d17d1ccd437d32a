#include "serving/model_config.h"

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
      "batching", "categories", "oos_score", "oos_threshold"};
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
  std::ostringstream out;
  out << root << "\n";
  return out.str();
}

}  // namespace closedloop
