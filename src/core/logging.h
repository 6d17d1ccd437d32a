// Structured logging on top of spdlog: one line per event, as logfmt
// (`ts=... level=info msg="model loaded" model=support-intent`) or JSON lines.
//
//   LogInfo("model loaded").Kv("model", name).Kv("version", 3);
// The line is written when the temporary is destroyed (end of the statement).
// Lines below the configured level cost one atomic load and no formatting.
//
// Thread safety: InitLogging() once at start-up before other threads run; logging
// itself is safe from any thread (spdlog's stderr sink serializes writes).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace closedloop {

enum class LogFormat { kLogfmt, kJson };

struct LogOptions {
  std::string level = "info";  // trace, debug, info, warn, error, off
  LogFormat format = LogFormat::kLogfmt;
};

// Installs the stderr logger. Returns false (and keeps the defaults) on an unknown level.
bool InitLogging(const LogOptions& options);

class LogLine {
 public:
  LogLine(spdlog::level::level_enum level, std::string_view msg);
  ~LogLine();
  LogLine(const LogLine&) = delete;
  LogLine& operator=(const LogLine&) = delete;

  LogLine& Kv(std::string_view key, std::string_view value);
  LogLine& Kv(std::string_view key, const char* value) { return Kv(key, std::string_view(value)); }
  LogLine& Kv(std::string_view key, const std::string& value) {
    return Kv(key, std::string_view(value));
  }
  LogLine& Kv(std::string_view key, int64_t value);
  LogLine& Kv(std::string_view key, uint64_t value);
  LogLine& Kv(std::string_view key, int value) { return Kv(key, static_cast<int64_t>(value)); }
  LogLine& Kv(std::string_view key, double value);

 private:
  void AppendKey(std::string_view key);
  bool enabled_;
  spdlog::level::level_enum level_;
  std::string line_;
};

inline LogLine LogDebug(std::string_view msg) { return LogLine(spdlog::level::debug, msg); }
inline LogLine LogInfo(std::string_view msg) { return LogLine(spdlog::level::info, msg); }
inline LogLine LogWarn(std::string_view msg) { return LogLine(spdlog::level::warn, msg); }
inline LogLine LogError(std::string_view msg) { return LogLine(spdlog::level::err, msg); }

}  // namespace closedloop
