// The schema of tracking.db: experiments, runs, params, metrics and tags
// (TrackingStore), registered models, versions, their tags and aliases
// (ModelRegistry). Both classes apply it on open; migrations run once each.
#pragma once

#include <vector>

#include "store/migrations.h"

namespace closedloop {

const std::vector<Migration>& TrackingMigrations();

}  // namespace closedloop
