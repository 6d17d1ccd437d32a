#include "monitor/reference_profile.h"

#include <simdjson.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/json_writer.h"

namespace closedloop {

std::string ReferenceProfileJson(const ReferenceProfile& p) {
  JsonWriter w(64 * 1024);
  auto numbers = [&](const char* key, const std::vector<double>& v) {
    w.Key(key).BeginArray();
    for (double x : v) w.Double(x);
    w.EndArray();
  };
  auto counts = [&](const char* key, const std::map<std::string, double>& m) {
    w.Key(key).BeginObject();
    for (const auto& [k, v] : m) w.Key(k).Double(v);
    w.EndObject();
  };
  w.BeginObject().Key("rows").Int(static_cast<int64_t>(p.rows));
  numbers("text_length", p.text_length);
  numbers("oov_rate", p.oov_rate);
  numbers("confidence", p.confidence);
  counts("predicted", p.predicted);
  counts("truth", p.truth);
  if (p.accuracy) w.Key("accuracy").Double(*p.accuracy);
  w.Key("vectors").BeginArray();
  for (const auto& v : p.vectors) {
    w.BeginArray();
    for (float x : v) w.Double(x);
    w.EndArray();
  }
  w.EndArray();
  if (!p.features.empty()) {
    w.Key("features").BeginArray();
    for (const FeatureProfile& f : p.features) {
      w.BeginObject()
          .Key("name")
          .String(f.name)
          .Key("categorical")
          .Bool(f.categorical)
          .Key("missing_share")
          .Double(f.missing_share);
      if (f.categorical) {
        counts("counts", f.counts);
      } else {
        numbers("sample", f.sample);
      }
      w.EndObject();
    }
    w.EndArray();
  }
  w.EndObject();
  return std::move(w).Take();
}

StatusOr<ReferenceProfile> ParseReferenceProfile(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (auto e = parser.parse(json.data(), json.size()).get(doc)) {
    return InvalidArgument(std::string("reference profile: ") + simdjson::error_message(e));
  }
  ReferenceProfile p;
  int64_t rows = 0;
  if (doc["rows"].get(rows)) return InvalidArgument("reference profile: no 'rows'");
  p.rows = static_cast<size_t>(rows);
  auto numbers = [&](const char* key, std::vector<double>& out) -> Status {
    simdjson::dom::array a;
    if (doc[key].get(a)) return InvalidArgument(std::string("reference profile: no '") + key + "'");
    for (auto v : a) {
      double x;
      if (v.get(x)) return InvalidArgument(std::string("reference profile: '") + key + "'");
      out.push_back(x);
    }
    return OkStatus();
  };
  auto counts = [&](const char* key, std::map<std::string, double>& out) -> Status {
    simdjson::dom::object o;
    if (doc[key].get(o)) return InvalidArgument(std::string("reference profile: no '") + key + "'");
    for (auto f : o) {
      double x;
      if (f.value.get(x)) return InvalidArgument(std::string("reference profile: '") + key + "'");
      out[std::string(f.key)] = x;
    }
    return OkStatus();
  };
  RETURN_IF_ERROR(numbers("text_length", p.text_length));
  RETURN_IF_ERROR(numbers("oov_rate", p.oov_rate));
  RETURN_IF_ERROR(numbers("confidence", p.confidence));
  RETURN_IF_ERROR(counts("predicted", p.predicted));
  RETURN_IF_ERROR(counts("truth", p.truth));
  simdjson::dom::array vs;
  if (doc["vectors"].get(vs)) return InvalidArgument("reference profile: no 'vectors'");
  for (auto row : vs) {
    simdjson::dom::array a;
    if (row.get(a)) return InvalidArgument("reference profile: 'vectors'");
    std::vector<float> v;
    for (auto x : a) {
      double d;
      if (x.get(d)) return InvalidArgument("reference profile: 'vectors'");
      v.push_back(static_cast<float>(d));
    }
    p.vectors.push_back(std::move(v));
  }
  double accuracy;
  if (!doc["accuracy"].get(accuracy)) p.accuracy = accuracy;
  simdjson::dom::array features;
  if (!doc["features"].get(features)) {
    for (auto f : features) {
      FeatureProfile fp;
      std::string_view name;
      if (f["name"].get(name) || f["categorical"].get(fp.categorical) ||
          f["missing_share"].get(fp.missing_share)) {
        return InvalidArgument(
            "reference profile: a feature needs name, categorical, missing_share");
      }
      fp.name = std::string(name);
      if (fp.categorical) {
        simdjson::dom::object o;
        if (f["counts"].get(o))
          return InvalidArgument("reference profile: feature '" + fp.name + "' has no counts");
        for (auto c : o) {
          double x;
          if (c.value.get(x))
            return InvalidArgument("reference profile: feature '" + fp.name + "'");
          fp.counts[std::string(c.key)] = x;
        }
      } else {
        simdjson::dom::array a;
        if (f["sample"].get(a))
          return InvalidArgument("reference profile: feature '" + fp.name + "' has no sample");
        for (auto v : a) {
          double x;
          if (v.get(x)) return InvalidArgument("reference profile: feature '" + fp.name + "'");
          fp.sample.push_back(x);
        }
      }
      p.features.push_back(std::move(fp));
    }
  }
  return p;
}

StatusOr<ReferenceProfile> LoadReferenceProfile(const std::string& dir) {
  std::string path = (std::filesystem::path(dir) / kProfileFile).string();
  std::ifstream in(path);
  if (!in) return NotFound("no reference profile at '" + path + "'");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseReferenceProfile(ss.str());
}

}  // namespace closedloop
