// The model registry's rules for names, aliases, stages and search filters, as
// MLflow has them (aliases: not "latest", not a version such as "v3"; the legacy
// stages None/Staging/Production/Archived in any case). Pure functions, thread-safe.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "tracking/run_filter.h"

namespace closedloop {

// Registered model names become directory names: 1-128 of [A-Za-z0-9_.-], not
// starting with '.'.
Status ValidateModelName(const std::string& name);
// 1-255 of [A-Za-z0-9_-], not "latest", not "v<digits>".
Status ValidateAliasName(const std::string& alias);
// "None", "Staging", "Production" or "Archived" for any casing of them; "" otherwise.
std::string CanonicalStage(const std::string& stage);
// What a registry filter may use besides string comparisons on its keys.
struct RegistryFilterExtras {
  bool tags = false;                      // tags.<key> = 'v' (entity "tags")
  std::vector<std::string> numeric_keys;  // e.g. version_number < 3
};
// Clauses joined by AND of `key op 'value'` (= != LIKE ILIKE) on `keys` only, plus
// the extras.
StatusOr<std::vector<RunFilterClause>> ParseRegistryFilter(const std::string& filter,
                                                           const std::vector<std::string>& keys,
                                                           const RegistryFilterExtras& extras = {});
bool ClauseMatches(const RunFilterClause& clause, const std::string& value);
// A numeric clause (= != < <= > >=) against a number.
bool ClauseMatchesNumber(const RunFilterClause& clause, double value);

}  // namespace closedloop
