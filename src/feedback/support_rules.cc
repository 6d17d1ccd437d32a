#include "feedback/support_rules.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include <toml++/toml.h>

namespace closedloop {

namespace {

std::string Words(const std::string& intent) {
  std::string out;
  for (char c : intent) {
    if (c == '_') {
      out += ' ';
    } else if (c != '?') {
      out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    }
  }
  return out;
}

std::string Fill(std::string text, const std::string& intent) {
  const std::string words = Words(intent);
  for (size_t at = text.find("{intent}"); at != std::string::npos; at = text.find("{intent}", at)) {
    text.replace(at, 8, words);
    at += words.size();
  }
  return text;
}

}  // namespace

StatusOr<SupportRules> ParseSupportRules(std::string_view toml_text, std::string_view source) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source);
  } catch (const toml::parse_error& e) {
    std::ostringstream m;
    m << source << ":" << e.source().begin.line << ": " << e.description();
    return InvalidArgument(m.str());
  }
  SupportRules r;
  for (const auto& [k, v] : root) {
    std::string_view key = k.str();
    std::string where = std::string(source) + ": '" + std::string(key) + "'";
    if (key == "intent_model" || key == "sentiment_model" || key == "default_reply") {
      auto s = v.value<std::string>();
      if (!s) return InvalidArgument(where + " must be a string");
      (key == "intent_model"      ? r.intent_model
       : key == "sentiment_model" ? r.sentiment_model
                                  : r.default_reply) = *s;
    } else if (key == "confidence_threshold" || key == "sentiment_threshold") {
      auto d = v.value<double>();
      if (!d) return InvalidArgument(where + " must be a number");
      if (key == "confidence_threshold" && !(*d >= 0 && *d <= 1)) {
        return InvalidArgument(where + " must be from 0 to 1");
      }
      if (key == "sentiment_threshold" && !(*d >= -1 && *d <= 1)) {
        return InvalidArgument(where + " must be from -1 to 1");
      }
      (key == "confidence_threshold" ? r.confidence_threshold : r.sentiment_threshold) = *d;
    } else if (key == "exploration_epsilon") {
      auto d = v.value<double>();
      if (!d || !(*d >= 0 && *d <= 1)) return InvalidArgument(where + " must be from 0 to 1");
      r.exploration_epsilon = *d;
    } else if (key == "exploration_seed") {
      auto i = v.value<int64_t>();
      if (!i) return InvalidArgument(where + " must be an integer");
      r.exploration_seed = static_cast<uint64_t>(*i);
    } else if (key == "high_risk_intents") {
      const toml::array* a = v.as_array();
      if (a == nullptr) return InvalidArgument(where + " must be an array of strings");
      for (const auto& e : *a) {
        auto s = e.value<std::string>();
        if (!s) return InvalidArgument(where + " must be an array of strings");
        r.high_risk_intents.insert(*s);
      }
    } else if (key == "replies") {
      const toml::table* t = v.as_table();
      if (t == nullptr) return InvalidArgument(where + " must be a table of intent = \"reply\"");
      for (const auto& [intent, reply] : *t) {
        auto s = reply.value<std::string>();
        if (!s)
          return InvalidArgument(where + "." + std::string(intent.str()) + " must be a string");
        r.replies[std::string(intent.str())] = *s;
      }
    } else {
      return InvalidArgument(where + " is not a known key");
    }
  }
  if (r.default_reply.empty())
    return InvalidArgument(std::string(source) + ": 'default_reply' is required");
  return r;
}

StatusOr<SupportRules> LoadSupportRules(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("support rules '" + path + "' cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseSupportRules(ss.str(), path);
}

SupportDecision Decide(const SupportRules& rules, const std::vector<std::string>& top_intents,
                       double confidence, std::optional<double> sentiment, double u,
                       bool out_of_scope) {
  SupportDecision d;
  const std::string& intent = top_intents.at(0);
  if (out_of_scope) d.reasons.emplace_back("out_of_scope");
  if (confidence < rules.confidence_threshold) d.reasons.emplace_back("low_confidence");
  if (rules.high_risk_intents.count(intent) > 0) d.reasons.emplace_back("high_risk_intent");
  if (sentiment && *sentiment < rules.sentiment_threshold) {
    d.reasons.emplace_back("negative_sentiment");
  }
  d.escalate = !d.reasons.empty();
  if (d.escalate) {
    d.action = "escalate";
    return d;
  }
  // ε-greedy over the top intents that may be auto-replied.
  std::vector<const std::string*> arms;
  for (const auto& t : top_intents) {
    if (rules.high_risk_intents.count(t) == 0) arms.push_back(&t);
  }
  const double eps = rules.exploration_epsilon;
  const double k = static_cast<double>(arms.size());
  size_t chosen = 0;
  if (eps > 0 && arms.size() > 1 && u < eps) {
    chosen = std::min(arms.size() - 1, static_cast<size_t>(u / eps * k));
  }
  d.action = *arms[chosen];
  d.explored = chosen != 0;
  d.propensity = (chosen == 0 ? 1 - eps : 0) + (arms.size() > 1 ? eps / k : eps);
  auto it = rules.replies.find(d.action);
  d.reply = Fill(it != rules.replies.end() ? it->second : rules.default_reply, d.action);
  return d;
}

double ExplorationDraw(std::string_view request_id, uint64_t seed) {
  uint64_t h = 1469598103934665603ULL ^ seed;  // FNV-1a, then a splitmix64 finalizer
  for (unsigned char c : request_id) h = (h ^ c) * 1099511628211ULL;
  h += 0x9e3779b97f4a7c15ULL;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ULL;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebULL;
  h ^= h >> 31;
  return static_cast<double>(h >> 11) * 0x1.0p-53;
}

}  // namespace closedloop
