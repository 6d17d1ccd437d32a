// MLflow's search grammar for runs, the basic subset: a filter of clauses joined
// by AND, each `<entity>.<key> <op> <value>` with entity metrics | params | tags |
// attributes (status, run_name, start_time, end_time, user_id); ops = != < <= > >=
// for numbers, = != LIKE ILIKE for strings ('%' and '_' wildcards). Keys may be
// quoted with backticks. And order_by entries "<entity>.<key> [ASC|DESC]".
// Pure functions; errors are InvalidArgument naming the offending part.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"
#include "tracking/tracking_store.h"

namespace closedloop {

struct RunFilterClause {
  std::string entity;  // metrics | params | tags | attributes
  std::string key;
  std::string op;
  std::string text;  // string operand
  double number = 0;
  bool numeric = false;
};

StatusOr<std::vector<RunFilterClause>> ParseRunFilter(const std::string& filter);
bool RunMatches(const Run& run, const std::vector<RunFilterClause>& clauses);
// Sorts by the order_by entries, then by start_time DESC and run_id.
Status SortRuns(std::vector<Run>& runs, const std::vector<std::string>& order_by);
bool LikeMatch(const std::string& text, const std::string& pattern, bool case_insensitive);

}  // namespace closedloop
