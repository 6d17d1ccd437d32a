#include "core/logging.h"

#include <atomic>
#include <chrono>
#include <ctime>

#include <spdlog/sinks/stdout_sinks.h>

#include "core/json_writer.h"

namespace closedloop {
namespace {

std::atomic<LogFormat> g_format{LogFormat::kLogfmt};

bool NeedsQuotes(std::string_view v) {
  if (v.empty()) return true;
  for (char c : v) {
    if (c == ' ' || c == '"' || c == '=' || static_cast<unsigned char>(c) < 0x20) return true;
  }
  return false;
}

std::string Timestamp() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()) % 1000;
  std::time_t t = std::chrono::system_clock::to_time_t(now);
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[40];
  size_t n = std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof buf - n, ".%03dZ", static_cast<int>(ms.count()));
  return buf;
}

}  // namespace

bool InitLogging(const LogOptions& options) {
  auto level = spdlog::level::from_str(options.level);
  if (level == spdlog::level::off && options.level != "off") return false;
  auto logger = spdlog::stderr_logger_mt("closedloop");
  logger->set_pattern("%v");  // LogLine formats the whole line itself
  logger->set_level(level);
  spdlog::set_default_logger(logger);
  g_format = options.format;
  return true;
}

LogLine::LogLine(spdlog::level::level_enum level, std::string_view msg)
    : enabled_(spdlog::should_log(level)), level_(level) {
  if (!enabled_) return;
  auto lvl = spdlog::level::to_string_view(level);
  if (g_format == LogFormat::kJson) {
    line_ = "{\"ts\":\"" + Timestamp() + "\",\"level\":\"";
    line_.append(lvl.data(), lvl.size());
    line_ += "\",\"msg\":";
    JsonWriter::AppendEscaped(line_, msg);
  } else {
    line_ = "ts=" + Timestamp() + " level=";
    line_.append(lvl.data(), lvl.size());
    line_ += " msg=";
    JsonWriter::AppendEscaped(line_, msg);
  }
}

LogLine::~LogLine() {
  if (!enabled_) return;
  if (g_format == LogFormat::kJson) line_ += '}';
  spdlog::log(level_, "{}", line_);
}

void LogLine::AppendKey(std::string_view key) {
  if (g_format == LogFormat::kJson) {
    line_ += ',';
    JsonWriter::AppendEscaped(line_, key);
    line_ += ':';
  } else {
    line_ += ' ';
    line_ += key;
    line_ += '=';
  }
}

LogLine& LogLine::Kv(std::string_view key, std::string_view value) {
  if (!enabled_) return *this;
  AppendKey(key);
  if (g_format == LogFormat::kJson || NeedsQuotes(value)) {
    JsonWriter::AppendEscaped(line_, value);
  } else {
    line_ += value;
  }
  return *this;
}

LogLine& LogLine::Kv(std::string_view key, int64_t value) {
  if (!enabled_) return *this;
  AppendKey(key);
  line_ += std::to_string(value);
  return *this;
}

LogLine& LogLine::Kv(std::string_view key, uint64_t value) {
  if (!enabled_) return *this;
  AppendKey(key);
  line_ += std::to_string(value);
  return *this;
}

LogLine& LogLine::Kv(std::string_view key, double value) {
  if (!enabled_) return *this;
  AppendKey(key);
  JsonWriter w;
  w.Double(value);
  line_ += w.str();
  return *this;
}

}  // namespace closedloop
