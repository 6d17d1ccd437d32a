#include "monitor/process_metrics.h"

#include <dirent.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <string>

namespace closedloop {
namespace {

double ResidentBytes() {
  std::ifstream in("/proc/self/statm");
  long size = 0, resident = 0;
  in >> size >> resident;
  return static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE));
}

double CpuSeconds() {
  std::ifstream in("/proc/self/stat");
  std::string line;
  std::getline(in, line);
  // Fields after the ")" that ends the command name; utime and stime are fields 14, 15.
  auto close = line.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(line.substr(close + 2));
  std::string field;
  unsigned long utime = 0, stime = 0;
  for (int i = 3; i <= 15 && rest >> field; ++i) {
    if (i == 14) utime = std::stoul(field);
    if (i == 15) stime = std::stoul(field);
  }
  return static_cast<double>(utime + stime) / static_cast<double>(sysconf(_SC_CLK_TCK));
}

double OpenFds() {
  DIR* dir = opendir("/proc/self/fd");
  if (dir == nullptr) return 0;
  int n = 0;
  while (readdir(dir) != nullptr) ++n;
  closedir(dir);
  return n - 3;  // ".", ".." and the fd opendir itself holds
}

double MaxFds() {
  std::ifstream in("/proc/self/limits");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("Max open files", 0) == 0) {
      std::istringstream fields(line.substr(14));
      double soft = 0;
      fields >> soft;
      return soft;
    }
  }
  return 0;
}

}  // namespace

void RegisterProcessMetrics(MetricsRegistry& registry, const Clock& clock) {
  double start_unix = static_cast<double>(clock.NowUnixMillis()) / 1000.0;
  auto start_mono = clock.MonotonicNow();
  registry.AddCallback("process_resident_memory_bytes", "Resident memory size in bytes.",
                       MetricType::kGauge, ResidentBytes);
  registry.AddCallback("process_cpu_seconds_total", "Total user and system CPU time in seconds.",
                       MetricType::kCounter, CpuSeconds);
  registry.AddCallback("process_open_fds", "Number of open file descriptors.", MetricType::kGauge,
                       OpenFds);
  registry.AddCallback("process_max_fds", "Maximum number of open file descriptors.",
                       MetricType::kGauge, MaxFds);
  registry.AddCallback("process_start_time_seconds", "Start time of the process since the epoch.",
                       MetricType::kGauge, [start_unix] { return start_unix; });
  registry.AddCallback(
      "closedloop_uptime_seconds", "Seconds since the server started.", MetricType::kGauge,
      [&clock, start_mono] {
        return std::chrono::duration<double>(clock.MonotonicNow() - start_mono).count();
      });
}

}  // namespace closedloop
