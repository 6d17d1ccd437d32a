#include "serving/model_repository.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "support/temp_dir.h"

namespace closedloop {
namespace {
namespace fs = std::filesystem;

class ModelRepositoryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    repo_ = testing::InstallTestModel(dir_.path());
    // Version 2 of the same model, and a broken model beside it.
    fs::copy(repo_ + "/support-intent/1", repo_ + "/support-intent/2");
    fs::create_directories(repo_ + "/broken/1");
    testing::WriteFile(repo_ + "/broken/1/config.toml", "flavor = \"fasttext\"\n");
    testing::WriteFile(repo_ + "/broken/1/model.bin", "garbage");
    fs::create_directories(repo_ + "/odd/latest");
    fs::create_directories(repo_ + "/.staging/1");
  }
  testing::TempDir dir_;
  std::string repo_;
};

TEST_F(ModelRepositoryTest, BrokenModelIsReportedAndOthersServe) {
  ModelRepository r(repo_);
  auto states = r.LoadAll();
  ASSERT_TRUE(states.ok());
  EXPECT_EQ(r.ReadyCount(), 2u);
  bool saw_broken = false, saw_odd = false;
  for (const auto& s : *states) {
    EXPECT_NE(s.name, ".staging");
    if (s.name == "broken") {
      saw_broken = true;
      EXPECT_FALSE(s.ready);
      EXPECT_NE(s.error.find("not a fastText model"), std::string::npos);
    }
    if (s.name == "odd") {
      saw_odd = true;
      EXPECT_NE(s.error.find("not a positive integer"), std::string::npos);
    }
  }
  EXPECT_TRUE(saw_broken && saw_odd);
  // Its directory exists but nothing loaded: not ready (503), unlike an unknown name.
  EXPECT_EQ(r.Resolve("broken", "").status().code(), StatusCode::kUnavailable);
  EXPECT_EQ(r.Resolve("nope", "").status().code(), StatusCode::kNotFound);
}

TEST_F(ModelRepositoryTest, ResolvesLatestVersionAndAlias) {
  ModelRepository r(repo_);
  ASSERT_TRUE(r.LoadAll().ok());
  auto latest = r.Resolve("support-intent", "");
  ASSERT_TRUE(latest.ok());
  EXPECT_EQ((*latest)->version, 2);
  auto v1 = r.Resolve("support-intent", "1");
  ASSERT_TRUE(v1.ok());
  EXPECT_EQ((*v1)->version, 1);
  auto champion = r.Resolve("support-intent@champion", "");
  ASSERT_TRUE(champion.ok());
  EXPECT_EQ((*champion)->version, 1);
  EXPECT_EQ(r.Resolve("support-intent@nope", "").status().message(),
            "alias 'nope' of model 'support-intent' is not set");
  EXPECT_EQ(r.Resolve("support-intent", "9").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(r.Resolve("support-intent", "x").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.Resolve("missing", "").status().message(), "model 'missing' is not loaded");
}

TEST_F(ModelRepositoryTest, InFlightVersionSurvivesReload) {
  ModelRepository r(repo_);
  ASSERT_TRUE(r.LoadAll().ok());
  auto held = r.Resolve("support-intent", "2");
  ASSERT_TRUE(held.ok());
  fs::remove_all(repo_ + "/support-intent/2");
  ASSERT_TRUE(r.LoadAll().ok());
  EXPECT_EQ(r.Resolve("support-intent", "2").status().code(), StatusCode::kNotFound);
  auto scores = (*held)->backend->PredictText("lost card", 1);  // still usable
  EXPECT_TRUE(scores.ok());
}

TEST(ModelRepositoryMissingTest, MissingRootIsAnError) {
  ModelRepository r("/nonexistent/models");
  EXPECT_EQ(r.LoadAll().status().code(), StatusCode::kNotFound);
}

}  // namespace
}  // namespace closedloop

namespace closedloop {
namespace {

class ModelReloadTest : public ::testing::Test {
 protected:
  void SetUp() override { repo_ = testing::InstallTestModel(dir_.path()); }
  void AddVersion(int v) {
    fs::copy(repo_ + "/support-intent/1", repo_ + "/support-intent/.staging",
             fs::copy_options::recursive);
    fs::rename(repo_ + "/support-intent/.staging", repo_ + "/support-intent/" + std::to_string(v));
  }
  testing::TempDir dir_;
  std::string repo_;
};

TEST_F(ModelReloadTest, UnchangedVersionsAreKeptNotReloaded) {
  ModelRepository r(repo_);
  ASSERT_TRUE(r.LoadAll().ok());
  auto before = *r.Resolve("support-intent", "1");
  AddVersion(2);
  auto states = r.LoadModel("support-intent");
  ASSERT_TRUE(states.ok()) << states.status().message();
  EXPECT_EQ(states->size(), 2u);
  EXPECT_EQ(r.Resolve("support-intent", "1")->get(), before.get());  // same object
  EXPECT_EQ((*r.Resolve("support-intent", ""))->version, 2);
}

TEST_F(ModelReloadTest, CorruptReplacementKeepsThePreviousLoadServing) {
  ModelRepository r(repo_);
  ASSERT_TRUE(r.LoadAll().ok());
  auto before = *r.Resolve("support-intent", "1");
  testing::WriteFile(repo_ + "/support-intent/1/model.bin", "corrupt, and a different size");
  auto states = r.LoadModel("support-intent");
  ASSERT_FALSE(states.ok());
  EXPECT_EQ(states.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(states.status().message().find("version 1: reload failed, previous load still serving"),
            std::string::npos);
  auto still = r.Resolve("support-intent", "1");
  ASSERT_TRUE(still.ok());
  EXPECT_EQ(still->get(), before.get());
  EXPECT_TRUE((*still)->backend->PredictText("card", 1).ok());
  auto list = r.List();
  ASSERT_EQ(list.size(), 1u);
  EXPECT_TRUE(list[0].ready);
  EXPECT_FALSE(list[0].error.empty());
}

TEST_F(ModelReloadTest, VersionPolicies) {
  AddVersion(2);
  AddVersion(3);
  testing::WriteFile(repo_ + "/support-intent/model.toml",
                     "version_policy = \"latest\"\nlatest = 2\n");
  ModelRepository r(repo_);
  ASSERT_TRUE(r.LoadAll().ok());
  EXPECT_EQ(*r.ReadyVersions("support-intent"), (std::vector<int64_t>{2, 3}));
  testing::WriteFile(repo_ + "/support-intent/model.toml",
                     "version_policy = \"specific\"\nversions = [1, 3]\n");
  ASSERT_TRUE(r.LoadModel("support-intent").ok());
  EXPECT_EQ(*r.ReadyVersions("support-intent"), (std::vector<int64_t>{1, 3}));
  // champion = 1 still resolves; version 2 is not served.
  EXPECT_TRUE(r.Resolve("support-intent@champion", "").ok());
  EXPECT_EQ(r.Resolve("support-intent", "2").status().code(), StatusCode::kNotFound);
}

TEST_F(ModelReloadTest, PollFindsNewChangedAndRemovedModels) {
  ModelRepository r(repo_);
  ASSERT_TRUE(r.LoadAll().ok());
  EXPECT_TRUE(r.PollOnce().empty());  // nothing changed
  AddVersion(2);
  EXPECT_EQ(r.PollOnce(), std::vector<std::string>{"support-intent"});
  EXPECT_EQ((*r.Resolve("support-intent", ""))->version, 2);
  fs::rename(repo_ + "/support-intent", repo_ + "/.gone");
  EXPECT_EQ(r.PollOnce(), std::vector<std::string>{"support-intent"});
  EXPECT_EQ(r.Resolve("support-intent", "").status().code(), StatusCode::kNotFound);
}

TEST_F(ModelReloadTest, UnloadAndBadNames) {
  ModelRepository r(repo_);
  ASSERT_TRUE(r.LoadAll().ok());
  auto held = *r.Resolve("support-intent", "");
  ASSERT_TRUE(r.UnloadModel("support-intent").ok());
  EXPECT_EQ(r.Resolve("support-intent", "").status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(held->backend->PredictText("card", 1).ok());  // in-flight holder unaffected
  EXPECT_EQ(r.UnloadModel("support-intent").code(), StatusCode::kNotFound);
  EXPECT_EQ(r.LoadModel("../etc").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.LoadModel("nope").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(r.LoadModel("support-intent").ok());
  EXPECT_TRUE(r.Resolve("support-intent", "").ok());
}

}  // namespace
}  // namespace closedloop
