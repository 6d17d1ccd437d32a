// Registers the standard process_* metrics (read from /proc/self at scrape time)
// and closedloop_uptime_seconds: resident memory, CPU seconds, open fds, start time.
#pragma once

#include "core/clock.h"
#include "monitor/metrics.h"

namespace closedloop {

// `clock` must outlive `registry`'s scrapes.
void RegisterProcessMetrics(MetricsRegistry& registry, const Clock& clock);

}  // namespace closedloop
