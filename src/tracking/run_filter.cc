#include "tracking/run_filter.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>

namespace closedloop {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

void SkipSpace(const std::string& s, size_t& i) {
  while (i < s.size() && std::isspace(static_cast<unsigned char>(s[i]))) ++i;
}

// entity.key with optional backticks around the key.
StatusOr<std::pair<std::string, std::string>> ParseIdentifier(const std::string& s, size_t& i) {
  SkipSpace(s, i);
  size_t dot = s.find('.', i);
  if (dot == std::string::npos)
    return InvalidArgument("expected <entity>.<key> at '" + s.substr(i) + "'");
  std::string entity = Lower(s.substr(i, dot - i));
  if (entity == "metric") entity = "metrics";
  if (entity == "param") entity = "params";
  if (entity == "tag") entity = "tags";
  if (entity == "attribute" || entity == "attr" || entity == "run") entity = "attributes";
  if (entity != "metrics" && entity != "params" && entity != "tags" && entity != "attributes") {
    return InvalidArgument("unknown entity '" + entity + "' (metrics, params, tags, attributes)");
  }
  i = dot + 1;
  std::string key;
  if (i < s.size() && (s[i] == '`' || s[i] == '"')) {
    char quote = s[i];
    size_t end = s.find(quote, i + 1);
    if (end == std::string::npos) return InvalidArgument("unterminated quoted key");
    key = s.substr(i + 1, end - i - 1);
    i = end + 1;
  } else {
    size_t start = i;
    while (i < s.size() && (std::isalnum(static_cast<unsigned char>(s[i])) || s[i] == '_' ||
                            s[i] == '-' || s[i] == '.' || s[i] == '/')) {
      ++i;
    }
    key = s.substr(start, i - start);
  }
  if (key.empty()) return InvalidArgument("empty key after '" + entity + ".'");
  return std::make_pair(entity, key);
}

std::optional<std::string> Attribute(const RunInfo& r, const std::string& key) {
  if (key == "status") return r.status;
  if (key == "run_name") return r.run_name;
  if (key == "user_id") return r.user_id;
  if (key == "run_id") return r.run_id;
  if (key == "start_time") return std::to_string(r.start_time);
  if (key == "end_time")
    return r.end_time ? std::optional(std::to_string(*r.end_time)) : std::nullopt;
  return std::nullopt;
}

const std::string* Find(const KeyValues& kv, const std::string& key) {
  for (const auto& [k, v] : kv) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::optional<double> MetricValue(const Run& run, const std::string& key) {
  for (const auto& m : run.metrics) {
    if (m.key == key) return m.value;
  }
  return std::nullopt;
}

bool Compare(double a, const std::string& op, double b) {
  if (op == "=") return a == b;
  if (op == "!=") return a != b;
  if (op == "<") return a < b;
  if (op == "<=") return a <= b;
  if (op == ">") return a > b;
  return a >= b;
}

}  // namespace

bool LikeMatch(const std::string& text, const std::string& pattern, bool ci) {
  // Classic two-pointer wildcard match: '%' any run, '_' any one character.
  size_t t = 0, p = 0, star = std::string::npos, mark = 0;
  auto eq = [ci](char a, char b) {
    return ci ? std::tolower(static_cast<unsigned char>(a)) ==
                    std::tolower(static_cast<unsigned char>(b))
              : a == b;
  };
  while (t < text.size()) {
    if (p < pattern.size() &&
        (pattern[p] == '_' || (pattern[p] != '%' && eq(pattern[p], text[t])))) {
      ++t;
      ++p;
    } else if (p < pattern.size() && pattern[p] == '%') {
      star = p++;
      mark = t;
    } else if (star != std::string::npos) {
      p = star + 1;
      t = ++mark;
    } else {
      return false;
    }
  }
  while (p < pattern.size() && pattern[p] == '%') ++p;
  return p == pattern.size();
}

StatusOr<std::vector<RunFilterClause>> ParseRunFilter(const std::string& filter) {
  std::vector<RunFilterClause> clauses;
  size_t i = 0;
  SkipSpace(filter, i);
  if (i == filter.size()) return clauses;
  for (;;) {
    ASSIGN_OR_RETURN(auto ident, ParseIdentifier(filter, i));
    RunFilterClause c;
    c.entity = ident.first;
    c.key = ident.second;
    SkipSpace(filter, i);
    static const char* kOps[] = {"<=", ">=", "!=", "=", "<", ">"};
    for (const char* op : kOps) {
      if (filter.compare(i, std::string(op).size(), op) == 0) {
        c.op = op;
        break;
      }
    }
    if (c.op.empty()) {
      std::string word = Lower(filter.substr(i, 5));
      if (word.rfind("ilike", 0) == 0) {
        c.op = "ILIKE";
      } else if (word.rfind("like", 0) == 0) {
        c.op = "LIKE";
      } else {
        return InvalidArgument("expected a comparison after '" + c.entity + "." + c.key + "'");
      }
    }
    i += c.op.size();
    SkipSpace(filter, i);
    if (i < filter.size() && (filter[i] == '\'' || filter[i] == '"')) {
      char quote = filter[i];
      size_t end = filter.find(quote, i + 1);
      if (end == std::string::npos) return InvalidArgument("unterminated string in filter");
      c.text = filter.substr(i + 1, end - i - 1);
      i = end + 1;
    } else {
      size_t start = i;
      while (i < filter.size() && !std::isspace(static_cast<unsigned char>(filter[i]))) ++i;
      std::string num = filter.substr(start, i - start);
      char* endp = nullptr;
      c.number = std::strtod(num.c_str(), &endp);
      if (num.empty() || *endp != '\0') {
        return InvalidArgument("'" + num + "' is not a number or a quoted string");
      }
      c.numeric = true;
    }
    if (c.entity == "metrics" && !c.numeric) {
      return InvalidArgument("metrics." + c.key + " must be compared with a number");
    }
    if ((c.op == "LIKE" || c.op == "ILIKE") && c.numeric) {
      return InvalidArgument(c.op + " needs a quoted pattern");
    }
    clauses.push_back(std::move(c));
    SkipSpace(filter, i);
    if (i == filter.size()) break;
    if (Lower(filter.substr(i, 3)) != "and") {
      return InvalidArgument("expected AND at '" + filter.substr(i) + "' (only AND is supported)");
    }
    i += 3;
  }
  return clauses;
}

bool RunMatches(const Run& run, const std::vector<RunFilterClause>& clauses) {
  for (const auto& c : clauses) {
    std::optional<std::string> text;
    if (c.entity == "metrics") {
      auto v = MetricValue(run, c.key);
      if (!v || !Compare(*v, c.op, c.number)) return false;
      continue;
    }
    if (c.entity == "params") {
      if (const auto* v = Find(run.params, c.key)) text = *v;
    } else if (c.entity == "tags") {
      if (const auto* v = Find(run.tags, c.key)) text = *v;
    } else {
      text = Attribute(run.info, c.key);
    }
    if (!text) return false;
    if (c.numeric) {
      char* endp = nullptr;
      double v = std::strtod(text->c_str(), &endp);
      if (*endp != '\0' || !Compare(v, c.op, c.number)) return false;
    } else if (c.op == "LIKE" || c.op == "ILIKE") {
      if (!LikeMatch(*text, c.text, c.op == "ILIKE")) return false;
    } else if (c.op == "=") {
      if (*text != c.text) return false;
    } else if (c.op == "!=") {
      if (*text == c.text) return false;
    } else {
      return false;  // <, > on strings: not supported, matches nothing
    }
  }
  return true;
}

Status SortRuns(std::vector<Run>& runs, const std::vector<std::string>& order_by) {
  struct Key {
    std::string entity, key;
    bool desc;
  };
  std::vector<Key> keys;
  for (const std::string& o : order_by) {
    size_t i = 0;
    ASSIGN_OR_RETURN(auto ident, ParseIdentifier(o, i));
    SkipSpace(o, i);
    std::string dir = Lower(o.substr(i));
    while (!dir.empty() && std::isspace(static_cast<unsigned char>(dir.back()))) dir.pop_back();
    if (!dir.empty() && dir != "asc" && dir != "desc") {
      return InvalidArgument("order_by '" + o + "': direction must be ASC or DESC");
    }
    keys.push_back({ident.first, ident.second, dir == "desc"});
  }
  auto value = [](const Run& r, const Key& k) -> std::pair<std::optional<double>, std::string> {
    if (k.entity == "metrics") return {MetricValue(r, k.key), ""};
    if (k.entity == "attributes" && (k.key == "start_time" || k.key == "end_time")) {
      auto a = Attribute(r.info, k.key);
      return {a ? std::optional<double>(std::stod(*a)) : std::nullopt, ""};
    }
    const std::string* s = k.entity == "params" ? Find(r.params, k.key)
                           : k.entity == "tags" ? Find(r.tags, k.key)
                                                : nullptr;
    if (k.entity == "attributes") {
      auto a = Attribute(r.info, k.key);
      return {std::nullopt, a.value_or("")};
    }
    return {std::nullopt, s ? *s : ""};
  };
  std::stable_sort(runs.begin(), runs.end(), [&](const Run& a, const Run& b) {
    for (const Key& k : keys) {
      auto [na, sa] = value(a, k);
      auto [nb, sb] = value(b, k);
      if (na || nb) {
        if (!na) return false;  // missing values last
        if (!nb) return true;
        if (*na != *nb) return k.desc ? *na > *nb : *na < *nb;
      } else if (sa != sb) {
        return k.desc ? sa > sb : sa < sb;
      }
    }
    if (a.info.start_time != b.info.start_time) return a.info.start_time > b.info.start_time;
    return a.info.run_id < b.info.run_id;
  });
  return OkStatus();
}

}  // namespace closedloop
