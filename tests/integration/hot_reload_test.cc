// Versions and hot reload through the real binary: load/unload endpoints, alias
// moves and new versions under continuous load with zero failed requests, a
// corrupt new file leaving the old version serving, and --poll-repository.
#include <poll.h>

#include <atomic>
#include <filesystem>
#include <thread>

#include "integration/fixture.h"

namespace closedloop::testing {
namespace {
namespace fs = std::filesystem;

class HotReloadTest : public ServerFixture {
 protected:
  std::string Repo() { return dir_.File("models/support-intent"); }
  void AddVersion(int v) {
    fs::copy(Repo() + "/1", Repo() + "/.staging", fs::copy_options::recursive);
    fs::rename(Repo() + "/.staging", Repo() + "/" + std::to_string(v));
  }
  std::string VersionOf(const std::string& model) {
    auto r = Predict(R"({"model":")" + model + R"(","text":"where is my card"})");
    return r.status == 200 ? std::string(ParseJson(r.body)->Str("version")) : "";
  }
};

TEST_F(HotReloadTest, NewVersionAndAliasMoveUnderLoadWithZeroFailures) {
  Start();
  std::atomic<bool> stop{false};
  std::atomic<int> ok{0}, failed{0}, saw_v2_latest{0}, saw_v2_champion{0};
  std::vector<std::thread> clients;
  for (const char* model : {"support-intent", "support-intent@champion"}) {
    clients.emplace_back([&, model = std::string(model)] {
      Connection c(port_);
      while (!stop) {
        auto r = c.Request("POST", "/v1/predict",
                           R"({"model":")" + model + R"(","text":"card not arrived"})");
        if (r.status != 200) {
          ++failed;
          continue;
        }
        ++ok;
        if (ParseJson(r.body)->Str("version") == "2") {
          ++(model == "support-intent" ? saw_v2_latest : saw_v2_champion);
        }
      }
    });
  }
  auto wait_for = [&](std::atomic<int>& counter, int at_least) {
    auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (counter < at_least && std::chrono::steady_clock::now() < end) poll(nullptr, 0, 5);
    return counter >= at_least;
  };
  ASSERT_TRUE(wait_for(ok, 200));
  AddVersion(2);
  auto load = Fetch(port_, "POST", "/v2/repository/models/support-intent/load");
  ASSERT_EQ(load.status, 200) << load.body;
  EXPECT_TRUE(wait_for(saw_v2_latest, 50));
  WriteFile(Repo() + "/aliases.toml", "champion = 2\n");
  ASSERT_EQ(Fetch(port_, "POST", "/v2/repository/models/support-intent/load").status, 200);
  EXPECT_TRUE(wait_for(saw_v2_champion, 50));
  stop = true;
  for (auto& t : clients) t.join();
  EXPECT_EQ(failed.load(), 0);
  EXPECT_GT(ok.load(), 300);
}

TEST_F(HotReloadTest, CorruptNewFileLeavesOldVersionServing) {
  Start();
  ASSERT_EQ(VersionOf("support-intent"), "1");
  WriteFile(Repo() + "/1/model.bin", "not a model any more");
  auto load = Fetch(port_, "POST", "/v2/repository/models/support-intent/load");
  EXPECT_EQ(load.status, 400);
  EXPECT_NE(load.body.find("version 1: reload failed, previous load still serving"),
            std::string::npos)
      << load.body;
  EXPECT_EQ(VersionOf("support-intent"), "1");
  auto index = Fetch(port_, "POST", "/v2/repository/index");
  ASSERT_EQ(index.status, 200);
  EXPECT_NE(index.body.find("not a fastText model"), std::string::npos) << index.body;
}

TEST_F(HotReloadTest, UnloadThenLoadAgain) {
  Start();
  ASSERT_EQ(Fetch(port_, "POST", "/v2/repository/models/support-intent/unload").status, 200);
  // Unloaded but still in the repository: not ready (503 / ready 400), not unknown (404).
  EXPECT_EQ(Predict(R"({"model":"support-intent","text":"card"})").status, 503);
  EXPECT_EQ(Fetch(port_, "GET", "/v2/models/support-intent/ready").status, 400);
  EXPECT_EQ(Fetch(port_, "POST", "/v2/repository/models/support-intent/unload").status, 404);
  EXPECT_EQ(Fetch(port_, "POST", "/v2/repository/models/nope/load").status, 404);
  ASSERT_EQ(Fetch(port_, "POST", "/v2/repository/models/support-intent/load").status, 200);
  EXPECT_EQ(VersionOf("support-intent"), "1");
}

TEST_F(HotReloadTest, VersionPolicyDecidesWhatIsServed) {
  InstallTestModel(dir_.path());
  AddVersion(2);
  AddVersion(3);
  WriteFile(Repo() + "/model.toml", "version_policy = \"latest\"\nlatest = 1\n");
  Start(kTestConfig, /*install_model=*/false);
  auto meta = Fetch(port_, "GET", "/v2/models/support-intent");
  EXPECT_NE(meta.body.find(R"("versions":["3"])"), std::string::npos) << meta.body;
  EXPECT_EQ(Predict(R"({"model":"support-intent","version":1,"text":"card"})").status, 404);
  WriteFile(Repo() + "/model.toml", "version_policy = \"specific\"\nversions = [1, 2]\n");
  ASSERT_EQ(Fetch(port_, "POST", "/v2/repository/models/support-intent/load").status, 200);
  meta = Fetch(port_, "GET", "/v2/models/support-intent");
  EXPECT_NE(meta.body.find(R"("versions":["1","2"])"), std::string::npos) << meta.body;
  EXPECT_EQ(VersionOf("support-intent"), "2");
}

TEST_F(HotReloadTest, PollRepositoryPicksUpANewVersion) {
  Start(kTestConfig, true, {"--poll-repository", "0.1"});
  ASSERT_EQ(VersionOf("support-intent"), "1");
  AddVersion(3);
  auto end = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  std::string v;
  while ((v = VersionOf("support-intent")) != "3" && std::chrono::steady_clock::now() < end) {
    poll(nullptr, 0, 20);
  }
  EXPECT_EQ(v, "3");
  EXPECT_NE(server_->Stderr().find("model repository changed"), std::string::npos);
}

}  // namespace
}  // namespace closedloop::testing
