#include "tracking/model_registry.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "core/sha256.h"
#include "support/temp_dir.h"

namespace closedloop {
namespace {

namespace fs = std::filesystem;
using testing::ReadFile;
using testing::WriteFile;

class ModelRegistryTest : public ::testing::Test {
 protected:
  void SetUp() override {
    registry_ = std::move(
        ModelRegistry::Open(dir_.File("tracking.db"), dir_.File("models"), clock_).value());
    runs_ = std::move(
        TrackingStore::Open(dir_.File("tracking.db"), dir_.File("artifacts"), clock_).value());
    registry_->SetChangeListener([this](const std::string& m) { changed_.push_back(m); });
  }
  // A version directory as a trainer writes it (the registry never loads the model).
  std::string Source(const std::string& name, const std::string& bytes) {
    std::string d = dir_.File(name);
    fs::create_directories(d);
    WriteFile(d + "/config.toml", "flavor = \"fasttext\"\ntemperature = 1.5\n");
    WriteFile(d + "/model.bin", bytes);
    WriteFile(d + "/metrics.json",
              R"({"test":{"rows":4,"accuracy":0.75,"macro_f1":0.7,"weighted_f1":0.7,)"
              R"("log_loss":0.5,"roc_auc":0.9,"ece":0.05,"per_class":[{"label":"a",)"
              R"("precision":1,"recall":0.5,"f1":0.6667,"support":2}]}})");
    return d;
  }
  testing::TempDir dir_;
  FakeClock clock_;
  std::unique_ptr<ModelRegistry> registry_;
  std::unique_ptr<TrackingStore> runs_;
  std::vector<std::string> changed_;
};

TEST_F(ModelRegistryTest, VersionsAreCopiedHashedCardedAndNumbered) {
  ASSERT_TRUE(registry_->CreateRegisteredModel("intent", "support intents", {{"team", "cx"}}).ok());
  auto dup = registry_->CreateRegisteredModel("intent", "", {});
  EXPECT_EQ(dup.status().code(), StatusCode::kAlreadyExists);
  std::string run = runs_->CreateRun("0", "train", "me", std::nullopt, {}).value().run_id;
  ASSERT_TRUE(runs_->LogBatch(run, {}, {{"epoch", "80"}}, {{"data.sha256", "abc123"}}).ok());
  NewModelVersion nv{"intent", Source("src1", "weights-1"), "", run, "first", "me", {{"k", "v"}}};
  auto v1 = registry_->CreateModelVersion(nv);
  ASSERT_TRUE(v1.ok()) << v1.status().message();
  EXPECT_EQ(v1->version, 1);
  EXPECT_EQ(v1->model_sha256, Sha256Hex("weights-1"));
  EXPECT_EQ(v1->model_size, 9);
  EXPECT_EQ(v1->flavor, "fasttext");
  EXPECT_EQ(v1->current_stage, "None");
  EXPECT_EQ(v1->tags, (KeyValues{{"k", "v"}}));
  EXPECT_EQ(v1->storage_path, dir_.File("models") + "/intent/1");
  EXPECT_EQ(ReadFile(v1->storage_path + "/model.bin"), "weights-1");
  EXPECT_TRUE(fs::exists(nv.source + "/model.bin"));  // copied, not moved
  std::string card = ReadFile(v1->storage_path + "/MODEL_CARD.md");
  EXPECT_EQ(card, v1->model_card);
  for (const char* part :
       {"# Model card: intent version 1", "## Intended use", "first", "## Data and lineage",
        "abc123", run.c_str(), "- epoch: `80`", "## Metrics", "| 0.7500 |",
        "| a | 1.000 | 0.500 | 0.667 | 2 |", "## Calibration", "Softmax temperature 1.500",
        "## Known limitations", "Weak classes (F1 below 0.75): a (0.67)"}) {
    EXPECT_NE(card.find(part), std::string::npos) << part << "\n" << card;
  }
  nv.source = Source("src2", "weights-2");
  nv.move_source = true;
  auto v2 = registry_->CreateModelVersion(nv);
  ASSERT_TRUE(v2.ok());
  EXPECT_EQ(v2->version, 2);
  EXPECT_FALSE(fs::exists(nv.source));  // moved
  EXPECT_EQ(changed_, (std::vector<std::string>{"intent", "intent"}));
  auto found = registry_->SearchModelVersions("name = 'intent' AND run_id = '" + run + "'", 0);
  ASSERT_TRUE(found.ok());
  EXPECT_EQ(found->size(), 2u);
  auto m = registry_->GetRegisteredModel("intent");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(m->description, "support intents");
  ASSERT_EQ(m->latest_versions.size(), 1u);  // newest per stage
  EXPECT_EQ(m->latest_versions[0].version, 2);
}

TEST_F(ModelRegistryTest, BadVersionsLeaveNothingBehind) {
  ASSERT_TRUE(registry_->CreateRegisteredModel("m", "", {}).ok());
  NewModelVersion nv{"m", dir_.File("nope"), "", "", "", "", {}};
  auto missing = registry_->CreateModelVersion(nv);
  EXPECT_EQ(missing.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(missing.status().message().find("does not exist"), std::string::npos);
  nv.source = Source("s", "w");
  nv.run_id = "0123456789abcdef0123456789abcdef";
  auto no_run = registry_->CreateModelVersion(nv);
  EXPECT_EQ(no_run.status().code(), StatusCode::kNotFound);
  EXPECT_NE(no_run.status().message().find("run '0123456789abcdef0123456789abcdef'"),
            std::string::npos);
  nv.run_id.clear();
  fs::remove(nv.source + "/model.bin");
  EXPECT_EQ(registry_->CreateModelVersion(nv).status().code(), StatusCode::kInvalidArgument);
  nv.name = "unknown";
  WriteFile(nv.source + "/model.bin", "w");
  EXPECT_EQ(registry_->CreateModelVersion(nv).status().code(), StatusCode::kNotFound);
  nv.name = "../escape";
  EXPECT_EQ(registry_->CreateModelVersion(nv).status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(registry_->SearchModelVersions("", 0)->empty());
  EXPECT_FALSE(fs::exists(dir_.File("models/m/1")));
  EXPECT_FALSE(fs::exists(dir_.File("models/unknown")));
}

TEST_F(ModelRegistryTest, AliasesAreValidatedAndMirroredForServing) {
  ASSERT_TRUE(registry_->CreateRegisteredModel("m", "", {}).ok());
  NewModelVersion nv{"m", Source("s", "w"), "", "", "", "", {}};
  ASSERT_TRUE(registry_->CreateModelVersion(nv).ok());
  ASSERT_TRUE(registry_->CreateModelVersion(nv).ok());
  ASSERT_TRUE(registry_->SetAlias("m", "champion", 1).ok());
  ASSERT_TRUE(registry_->SetAlias("m", "challenger", 2).ok());
  EXPECT_NE(ReadFile(dir_.File("models/m/aliases.toml")).find("champion = 1\n"), std::string::npos);
  ASSERT_TRUE(registry_->SetAlias("m", "champion", 2).ok());  // move
  EXPECT_NE(ReadFile(dir_.File("models/m/aliases.toml")).find("champion = 2\n"), std::string::npos);
  EXPECT_EQ(registry_->GetVersionByAlias("m", "champion")->version, 2);
  EXPECT_EQ(registry_->GetModelVersion("m", 2)->aliases,
            (std::vector<std::string>{"challenger", "champion"}));
  for (const char* bad : {"", "latest", "v3", "has space", "a/b"}) {
    EXPECT_EQ(registry_->SetAlias("m", bad, 1).code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(registry_->SetAlias("m", "x", 9).code(), StatusCode::kNotFound);
  EXPECT_EQ(registry_->DeleteAlias("m", "nope").code(), StatusCode::kNotFound);
  ASSERT_TRUE(registry_->DeleteAlias("m", "challenger").ok());
  EXPECT_EQ(ReadFile(dir_.File("models/m/aliases.toml")).find("challenger"), std::string::npos);
  // Deleting a version drops its aliases and its files.
  ASSERT_TRUE(registry_->DeleteModelVersion("m", 2).ok());
  EXPECT_FALSE(fs::exists(dir_.File("models/m/2")));
  EXPECT_EQ(registry_->GetVersionByAlias("m", "champion").status().code(), StatusCode::kNotFound);
  // Numbers are never reused while a directory holds them.
  ASSERT_TRUE(registry_->CreateModelVersion(nv).ok());
  EXPECT_EQ(registry_->SearchModelVersions("name = 'm'", 1).value()[0].version, 2);
}

TEST_F(ModelRegistryTest, StagesFollowMlflowLegacyRules) {
  ASSERT_TRUE(registry_->CreateRegisteredModel("m", "", {}).ok());
  NewModelVersion nv{"m", Source("s", "w"), "", "", "", "", {}};
  ASSERT_TRUE(registry_->CreateModelVersion(nv).ok());
  ASSERT_TRUE(registry_->CreateModelVersion(nv).ok());
  EXPECT_EQ(registry_->TransitionStage("m", 1, "production", false)->current_stage, "Production");
  EXPECT_EQ(registry_->TransitionStage("m", 2, "Production", true)->current_stage, "Production");
  EXPECT_EQ(registry_->GetModelVersion("m", 1)->current_stage, "Archived");
  auto bad = registry_->TransitionStage("m", 1, "Live", false);
  EXPECT_EQ(bad.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(bad.status().message().find("None, Staging, Production, Archived"), std::string::npos);
  EXPECT_EQ(registry_->TransitionStage("m", 7, "None", false).status().code(),
            StatusCode::kNotFound);
  ASSERT_TRUE(registry_->DeleteRegisteredModel("m").ok());
  EXPECT_EQ(registry_->GetRegisteredModel("m").status().code(), StatusCode::kNotFound);
  EXPECT_FALSE(fs::exists(dir_.File("models/m")));
  EXPECT_TRUE(registry_->SearchModelVersions("name = 'm'", 0)->empty());
}

TEST_F(ModelRegistryTest, SearchFilters) {
  for (const char* n : {"support-intent", "support-sentiment", "churn"}) {
    ASSERT_TRUE(registry_->CreateRegisteredModel(n, "", {}).ok());
  }
  EXPECT_EQ(registry_->SearchRegisteredModels("name LIKE 'support-%'", 0)->size(), 2u);
  EXPECT_EQ(registry_->SearchRegisteredModels("name ILIKE 'CHURN'", 0)->size(), 1u);
  EXPECT_EQ(registry_->SearchRegisteredModels("", 2)->size(), 2u);
  EXPECT_EQ(registry_->SearchRegisteredModels("tags.x = 'y'", 0).status().code(),
            StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace closedloop
