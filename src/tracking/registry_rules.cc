#include "tracking/registry_rules.h"

#include <algorithm>
#include <cctype>
#include <regex>

namespace closedloop {

Status ValidateModelName(const std::string& name) {
  if (name.empty()) return InvalidArgument("'name' must not be empty");
  if (name.size() > 128 || name[0] == '.' || !std::all_of(name.begin(), name.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.';
      })) {
    return InvalidArgument("model name '" + name +
                           "' is invalid: use 1-128 of A-Z a-z 0-9 _ - . (not starting with .)");
  }
  return OkStatus();
}

Status ValidateAliasName(const std::string& alias) {
  bool chars_ok =
      !alias.empty() && alias.size() <= 255 && std::all_of(alias.begin(), alias.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
      });
  bool version_like = alias.size() > 1 && (alias[0] == 'v' || alias[0] == 'V') &&
                      std::all_of(alias.begin() + 1, alias.end(), [](char c) {
                        return std::isdigit(static_cast<unsigned char>(c));
                      });
  std::string lower;
  for (char c : alias) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (!chars_ok || version_like || lower == "latest") {
    return InvalidArgument("alias '" + alias +
                           "' is invalid: use 1-255 of A-Z a-z 0-9 _ -, not 'latest' and not a "
                           "version such as 'v1'");
  }
  return OkStatus();
}

std::string CanonicalStage(const std::string& stage) {
  std::string lower;
  for (char c : stage) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  for (const char* s : {"None", "Staging", "Production", "Archived"}) {
    std::string l;
    for (const char* p = s; *p; ++p) l += static_cast<char>(std::tolower(*p));
    if (l == lower) return s;
  }
  return "";
}

// Clauses joined by AND of `key op 'value'` on the allowed keys.
StatusOr<std::vector<RunFilterClause>> ParseRegistryFilter(const std::string& filter,
                                                           const std::vector<std::string>& keys,
                                                           const RegistryFilterExtras& extras) {
  std::vector<RunFilterClause> out;
  if (filter.empty()) return out;
  // The registry's keys have no entity prefix: give each clause "attributes.".
  std::string prefixed;
  static const std::regex kAnd(R"(\s+[Aa][Nn][Dd]\s+)");
  for (std::sregex_token_iterator it(filter.begin(), filter.end(), kAnd, -1), end; it != end;
       ++it) {
    std::string part = *it;
    size_t start = part.find_first_not_of(" \t");
    if (start != std::string::npos) part = part.substr(start);
    const bool tag = extras.tags && (part.rfind("tags.", 0) == 0 || part.rfind("tag.", 0) == 0);
    prefixed += (prefixed.empty() ? "" : " AND ") + std::string(tag ? "" : "attributes.") + part;
  }
  ASSIGN_OR_RETURN(auto clauses, ParseRunFilter(prefixed));
  for (auto& c : clauses) {
    if (c.entity == "tags" && extras.tags && !c.numeric) {
      out.push_back(std::move(c));
      continue;
    }
    const bool numeric_key = std::find(extras.numeric_keys.begin(), extras.numeric_keys.end(),
                                       c.key) != extras.numeric_keys.end();
    if (numeric_key && c.numeric) {
      out.push_back(std::move(c));
      continue;
    }
    if (std::find(keys.begin(), keys.end(), c.key) == keys.end() || c.numeric) {
      std::string allowed;
      for (const auto& k : keys) allowed += (allowed.empty() ? "" : ", ") + k;
      if (extras.tags) allowed += ", tags.<key>";
      std::string numbers;
      for (const auto& k : extras.numeric_keys) numbers += (numbers.empty() ? "" : ", ") + k;
      return InvalidArgument("filter '" + filter + "': only string comparisons on " + allowed +
                             (numbers.empty() ? "" : " and numeric comparisons on " + numbers) +
                             " are supported");
    }
    out.push_back(std::move(c));
  }
  return out;
}

bool ClauseMatches(const RunFilterClause& c, const std::string& value) {
  if (c.op == "=") return value == c.text;
  if (c.op == "!=") return value != c.text;
  if (c.op == "LIKE") return LikeMatch(value, c.text, false);
  if (c.op == "ILIKE") return LikeMatch(value, c.text, true);
  return false;
}

bool ClauseMatchesNumber(const RunFilterClause& c, double value) {
  if (c.op == "=") return value == c.number;
  if (c.op == "!=") return value != c.number;
  if (c.op == "<") return value < c.number;
  if (c.op == "<=") return value <= c.number;
  if (c.op == ">") return value > c.number;
  if (c.op == ">=") return value >= c.number;
  return false;
}

}  // namespace closedloop
