// `closedloop monitor`: a live status screen of a running server, read over its
// HTTP API: request totals and rate (/metrics), every SLO with its SLI, error
// budget and burn rates (/v1/slo), the firing alerts (/v1/alerts) and the latest
// drift report per model (/v1/drift). Redraws every --interval seconds; --once
// prints one frame without terminal control codes (scripts, tests) and exits 2
// when the server cannot be reached.
#include <poll.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <set>
#include <sstream>

#include <simdjson.h>

#include "cli/commands.h"
#include "core/clock.h"
#include "http/http_client.h"

namespace closedloop {

namespace {

struct MonitorFlags {
  std::string url = "http://127.0.0.1:4000";
  double interval_s = 2;
  bool once = false;
  int frames = 0;       // 0: until interrupted
  std::string api_key;  // --api-key, else $CLOSEDLOOP_API_KEY (needs the metrics scope)
};

std::string Percent(double v, int decimals = 3) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.*f%%", decimals, v * 100);
  return buf;
}

std::string Pad(std::string s, size_t width) {
  if (s.size() < width) s.append(width - s.size(), ' ');
  return s + " ";
}

// Sum of the closedloop_requests_total series in a Prometheus text body: total and 5xx.
std::pair<double, double> RequestTotals(const std::string& metrics) {
  double total = 0, errors = 0;
  std::istringstream in(metrics);
  for (std::string line; std::getline(in, line);) {
    if (line.rfind("closedloop_requests_total{", 0) != 0) continue;
    size_t sp = line.rfind(' ');
    double v = std::strtod(line.c_str() + sp + 1, nullptr);
    total += v;
    if (line.find("code=\"5") != std::string::npos) errors += v;
  }
  return {total, errors};
}

StatusOr<std::string> Get(const MonitorFlags& f, const std::string& path) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (!f.api_key.empty()) headers.emplace_back("X-Api-Key", f.api_key);
  ASSIGN_OR_RETURN(auto r, HttpCall("GET", f.url + path, "", headers, std::chrono::seconds(5)));
  if (r.status != 200) {
    return Unavailable("GET " + path + " answered " + std::to_string(r.status) + ": " + r.body);
  }
  return std::move(r.body);
}

// One frame; `last_total`/`last_ms` carry the previous frame's request count for the rate.
StatusOr<std::string> Frame(const MonitorFlags& f, double& last_total, int64_t& last_ms) {
  ASSIGN_OR_RETURN(std::string metrics, Get(f, "/metrics"));
  ASSIGN_OR_RETURN(std::string slo, Get(f, "/v1/slo"));
  ASSIGN_OR_RETURN(std::string alerts, Get(f, "/v1/alerts?state=firing&limit=20"));
  ASSIGN_OR_RETURN(std::string drift, Get(f, "/v1/drift"));
  std::ostringstream out;
  int64_t now = SystemClock::Get().NowUnixMillis();
  out << "closedloop monitor  " << f.url << "  " << FormatUtc(now) << "\n\n";
  auto [total, errors] = RequestTotals(metrics);
  out << "requests  " << static_cast<int64_t>(total) << " answered, "
      << static_cast<int64_t>(errors) << " with 5xx";
  if (last_ms > 0 && now > last_ms) {
    char rate[48];
    std::snprintf(rate, sizeof rate, ", %.1f req/s",
                  (total - last_total) * 1000.0 / (now - last_ms));
    out << rate;
  }
  out << "\n\n";
  last_total = total;
  last_ms = now;

  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(slo).get(doc)) return Internal("GET /v1/slo: not JSON");
  out << Pad("SLO", 16) << Pad("objective", 10) << Pad("SLI", 9) << Pad("budget left", 12)
      << Pad("burn 5m", 8) << Pad("1h", 8) << Pad("6h", 8) << Pad("3d", 8) << "rules firing\n";
  for (auto s : doc["slos"].get_array()) {
    std::string name(std::string_view(s["name"].get_string()));
    double threshold = 0;
    if (!s["threshold_ms"].get(threshold)) {
      char t[32];
      std::snprintf(t, sizeof t, " <%gms", threshold);
      name += t;
    }
    out << Pad(name, 16) << Pad(Percent(double(s["objective"])), 10)
        << Pad(Percent(double(s["sli"])), 9)
        << Pad(Percent(double(s["error_budget"]["remaining"]), 1), 12);
    for (const char* w : {"5m", "1h", "6h", "3d"}) {
      char b[32];
      std::snprintf(b, sizeof b, "%.2fx", double(s["burn_rates"][w]["burn_rate"]));
      out << Pad(b, 8);
    }
    std::string firing;
    for (auto r : s["alerts"].get_array()) {
      if (bool(r["firing"]))
        firing += (firing.empty() ? "" : ", ") + std::string(r["rule"].get_string().value());
    }
    out << (firing.empty() ? "-" : firing) << "\n";
  }
  if (doc["slos"].get_array().size() == 0) out << "(no SLO configured)\n";

  if (parser.parse(alerts).get(doc)) return Internal("GET /v1/alerts: not JSON");
  auto list = doc["alerts"].get_array();
  out << "\nalerts firing: " << list.size() << "\n";
  for (auto a : list) {
    out << "  [" << std::string_view(a["severity"].get_string()) << "] "
        << std::string_view(a["name"].get_string()) << "  "
        << std::string_view(a["summary"].get_string()) << "  since "
        << std::string_view(a["started_at"].get_string()) << "\n";
  }

  if (parser.parse(drift).get(doc)) return Internal("GET /v1/drift: not JSON");
  auto reports = doc["reports"].get_array();
  out << "\ndrift (latest report per model):\n";
  if (reports.size() == 0) out << "  (no report yet)\n";
  std::set<std::string> shown;
  for (auto r : reports) {
    std::string model(std::string_view(r["model"].get_string()));
    if (!shown.insert(model).second) continue;
    out << "  " << Pad(model, 20) << Pad(std::string(r["severity"].get_string().value()), 9)
        << "window " << int64_t(r["window_predictions"]) << "  ";
    std::string signals;
    for (auto sig : r["signals"].get_array()) {
      signals += (signals.empty() ? "" : ", ") + std::string(sig["name"].get_string().value()) +
                 " " + std::string(sig["severity"].get_string().value());
    }
    out << signals << "\n";
  }
  return out.str();
}

int RunMonitor(MonitorFlags f) {
  if (f.api_key.empty()) {
    if (const char* env = std::getenv("CLOSEDLOOP_API_KEY")) f.api_key = env;
  }
  if (auto u = ParseHttpUrl(f.url); !u.ok()) {
    std::cerr << "closedloop monitor: --url: " << u.status().message() << "\n";
    return 2;
  }
  double last_total = 0;
  int64_t last_ms = 0;
  const bool tty = !f.once && isatty(STDOUT_FILENO);
  for (int frame = 0; f.frames == 0 || frame < f.frames; ++frame) {
    auto text = Frame(f, last_total, last_ms);
    if (f.once) {
      if (!text.ok()) {
        std::cerr << "closedloop monitor: " << text.status().message() << "\n";
        return 2;
      }
      std::cout << *text;
      return 0;
    }
    if (tty) std::cout << "\x1b[H\x1b[2J";  // home, clear screen
    std::cout << (text.ok() ? *text : "closedloop monitor: " + text.status().message() + "\n")
              << std::flush;
    if (f.frames == 0 || frame + 1 < f.frames) {
      poll(nullptr, 0, static_cast<int>(f.interval_s * 1000));
    }
  }
  return 0;
}

}  // namespace

void AddMonitorCommand(CLI::App& app, int& exit_code) {
  auto flags = std::make_shared<MonitorFlags>();
  auto* cmd = app.add_subcommand("monitor", "Live status of a running server: SLOs, alerts, drift");
  cmd->add_option("--url", flags->url, "The server's base URL")->capture_default_str();
  cmd->add_option("--api-key", flags->api_key,
                  "API key with the metrics scope (default: $CLOSEDLOOP_API_KEY)");
  cmd->add_option("--interval", flags->interval_s, "Seconds between frames")
      ->check(CLI::Range(0.1, 3600.0))
      ->capture_default_str();
  cmd->add_flag("--once", flags->once, "Print one frame and exit (2 if unreachable)");
  cmd->add_option("--frames", flags->frames, "Stop after this many frames (0: never)")
      ->check(CLI::NonNegativeNumber);
  cmd->callback([flags, &exit_code] { exit_code = RunMonitor(*flags); });
}

}  // namespace closedloop
