// The audit log's lines, rotation, full-queue drops and file mode, written
// through the real file system (the writer's step called directly).
#include "gateway/audit_log.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <fstream>

#include "core/sha256.h"
#include "support/json.h"
#include "support/temp_dir.h"

namespace closedloop {
namespace {

using testing::ParseJson;
using testing::TempDir;

std::vector<std::string> Lines(const std::string& path) {
  std::ifstream in(path);
  std::vector<std::string> out;
  std::string line;
  while (std::getline(in, line)) out.push_back(line);
  return out;
}

// `id` and `body` must outlive the record's use (Record copies them).
AuditRecord Sample(std::string_view id, std::string_view body) {
  AuditRecord r;
  r.unix_ms = 1'796'000'000'042;
  r.request_id = id;
  r.principal = "app";
  r.client_ip = "127.0.0.1";
  r.method = "POST";
  r.route = "/v1/predict";
  r.target = "/v1/predict?x=1";
  r.body = body;
  r.status = 200;
  r.latency_ms = 1.5;
  return r;
}

TEST(AuditLogTest, OneJsonLinePerRequestWithTheInputsHashNotTheInput) {
  TempDir dir;
  MetricsRegistry metrics;
  FakeClock clock;
  AuditConfig config;
  auto log = AuditLog::Open(config, dir.File("audit/audit.log"), metrics, clock);
  ASSERT_TRUE(log.ok()) << log.status().message();
  const std::string body = R"({"model":"m","text":"my card is lost"})";
  AuditRecord predicted = Sample("01A", body);
  predicted.model = "support-intent";
  predicted.version = "3";
  predicted.label = "lost_or_stolen_card";
  predicted.decision = "escalate";
  predicted.input_sha256 = "abc123";
  (*log)->Record(predicted);
  (*log)->Record(Sample("01B", body));
  ASSERT_TRUE((*log)->Flush().ok());

  auto lines = Lines(dir.File("audit/audit.log"));
  ASSERT_EQ(lines.size(), 2u);
  auto first = ParseJson(lines[0]);
  EXPECT_EQ(first->Str("time"), "2026-11-30T00:53:20.042Z");
  EXPECT_EQ(first->Str("request_id"), "01A");
  EXPECT_EQ(first->Str("principal"), "app");
  EXPECT_EQ(first->Str("route"), "/v1/predict");
  EXPECT_EQ(first->Str("path"), "/v1/predict");
  EXPECT_EQ(first->Str("model"), "support-intent@3");
  EXPECT_EQ(first->Str("input_sha256"), "abc123");  // the model's input, as the handler said
  EXPECT_EQ(first->Str("label"), "lost_or_stolen_card");
  EXPECT_EQ(first->Str("decision"), "escalate");
  EXPECT_EQ(first->Num("status"), 200);
  EXPECT_EQ(first->Num("latency_ms"), 1.5);
  auto second = ParseJson(lines[1]);
  EXPECT_EQ(second->Str("input_sha256"), Sha256Hex(body));  // else the body's
  EXPECT_EQ(lines[1].find("my card is lost"), std::string::npos);
  struct stat st {};
  ASSERT_EQ(stat(dir.File("audit/audit.log").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

TEST(AuditLogTest, IncludeInputRecordsTheBody) {
  TempDir dir;
  MetricsRegistry metrics;
  FakeClock clock;
  AuditConfig config;
  config.include_input = true;
  auto log = AuditLog::Open(config, dir.File("audit.log"), metrics, clock);
  ASSERT_TRUE(log.ok());
  (*log)->Record(Sample("01A", R"({"text":"hi \"there\""})"));
  ASSERT_TRUE((*log)->Flush().ok());
  auto lines = Lines(dir.File("audit.log"));
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(ParseJson(lines[0])->Str("input"), R"({"text":"hi \"there\""})");
}

TEST(AuditLogTest, RotatesBySizeAndKeepsMaxFiles) {
  TempDir dir;
  MetricsRegistry metrics;
  FakeClock clock;
  AuditConfig config;
  config.max_bytes = 4096;
  config.max_files = 2;
  auto log = AuditLog::Open(config, dir.File("audit.log"), metrics, clock);
  ASSERT_TRUE(log.ok());
  size_t total = 0;
  for (int batch = 0; batch < 10; ++batch) {
    for (int i = 0; i < 20; ++i) {
      const std::string id = std::to_string(batch * 100 + i);
      (*log)->Record(Sample(id, "{}"));
      ++total;
    }
    ASSERT_TRUE((*log)->Flush().ok());
  }
  namespace fs = std::filesystem;
  EXPECT_TRUE(fs::exists(dir.File("audit.log")));
  EXPECT_TRUE(fs::exists(dir.File("audit.log.1")));
  EXPECT_TRUE(fs::exists(dir.File("audit.log.2")));
  EXPECT_FALSE(fs::exists(dir.File("audit.log.3")));
  size_t kept = 0;
  for (const char* f : {"audit.log", "audit.log.1", "audit.log.2"}) {
    EXPECT_LE(fs::file_size(dir.File(f)), 4096u + 256 * 20) << f;
    for (const auto& line : Lines(dir.File(f))) {
      EXPECT_TRUE(ParseJson(line) != nullptr) << line;
      ++kept;
    }
  }
  EXPECT_LT(kept, total);  // the oldest went
  // The newest line is in the live file.
  auto live = Lines(dir.File("audit.log"));
  EXPECT_EQ(ParseJson(live.back())->Str("request_id"), "919");
  EXPECT_NE(metrics.Render().find("closedloop_audit_rotations_total"), std::string::npos);
}

TEST(AuditLogTest, AFullQueueDropsAndCounts) {
  TempDir dir;
  MetricsRegistry metrics;
  FakeClock clock;
  AuditConfig config;
  config.queue_capacity = 2;
  auto log = AuditLog::Open(config, dir.File("audit.log"), metrics, clock);
  ASSERT_TRUE(log.ok());
  for (int i = 0; i < 5; ++i) {
    const std::string id = std::to_string(i);
    (*log)->Record(Sample(id, "{}"));
  }
  ASSERT_TRUE((*log)->Flush().ok());
  EXPECT_EQ(Lines(dir.File("audit.log")).size(), 2u);
  EXPECT_NE(metrics.Render().find("closedloop_audit_dropped_total 3"), std::string::npos)
      << metrics.Render();
}

TEST(AuditLogTest, AnUnwritableDirectoryIsAClearError) {
  MetricsRegistry metrics;
  FakeClock clock;
  auto log = AuditLog::Open(AuditConfig{}, "/proc/closedloop/audit.log", metrics, clock);
  ASSERT_FALSE(log.ok());
  EXPECT_NE(log.status().message().find("audit"), std::string::npos);
}

}  // namespace
}  // namespace closedloop
