#include "tracking/artifact_store.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "support/temp_dir.h"

namespace closedloop {
namespace {

class ArtifactStoreTest : public ::testing::Test {
 protected:
  testing::TempDir dir_;
  ArtifactStore store_{dir_.File("artifacts")};
};

TEST_F(ArtifactStoreTest, PutReadReplaceAndList) {
  ASSERT_TRUE(store_.Put("1/run/artifacts/model/model.bin", std::string("\0ab", 3)).ok());
  ASSERT_TRUE(store_.Put("1/run/artifacts/notes.txt", "hello").ok());
  auto bytes = store_.Read("1/run/artifacts/model/model.bin");
  ASSERT_TRUE(bytes.ok());
  EXPECT_EQ(*bytes, std::string("\0ab", 3));
  ASSERT_TRUE(store_.Put("1/run/artifacts/notes.txt", "hello again").ok());
  EXPECT_EQ(store_.Read("1/run/artifacts/notes.txt").value(), "hello again");

  auto entries = store_.List("1/run/artifacts");
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 2u);
  EXPECT_EQ((*entries)[0].name, "model");
  EXPECT_TRUE((*entries)[0].is_dir);
  EXPECT_EQ((*entries)[1].name, "notes.txt");
  EXPECT_FALSE((*entries)[1].is_dir);
  EXPECT_EQ((*entries)[1].file_size, 11);
  // An absent directory lists empty; a file cannot be listed.
  EXPECT_TRUE(store_.List("nothing/here").value().empty());
  EXPECT_EQ(store_.List("1/run/artifacts/notes.txt").status().code(), StatusCode::kInvalidArgument);
}

TEST_F(ArtifactStoreTest, ListHidesUploadTemporaries) {
  ASSERT_TRUE(store_.Put("d/a.txt", "a").ok());
  std::ofstream(store_.root() + "/d/.upload-leftover") << "partial";
  auto entries = store_.List("d");
  ASSERT_TRUE(entries.ok());
  ASSERT_EQ(entries->size(), 1u);
  EXPECT_EQ((*entries)[0].name, "a.txt");
}

TEST_F(ArtifactStoreTest, MissingAndDirectoryReads) {
  EXPECT_EQ(store_.Read("no/such/file").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_.Put("d/f", "x").ok());
  EXPECT_EQ(store_.Read("d").status().code(), StatusCode::kInvalidArgument);
  // A directory cannot be overwritten by a file.
  EXPECT_EQ(store_.Put("d", "x").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_.Put("", "x").code(), StatusCode::kInvalidArgument);
}

TEST_F(ArtifactStoreTest, PathsThatWouldLeaveTheRootAreRejected) {
  for (const char* bad :
       {"../escape", "a/../../escape", "/etc/passwd", "a//b", "a/./b", "a\\b", "..", "."}) {
    EXPECT_EQ(store_.Put(bad, "x").code(), StatusCode::kInvalidArgument) << bad;
    EXPECT_EQ(store_.Read(bad).status().code(), StatusCode::kInvalidArgument) << bad;
  }
  EXPECT_EQ(store_.Put(std::string("a\0b", 3), "x").code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(dir_.File("escape")));
}

TEST_F(ArtifactStoreTest, SymlinkOutOfTheRootIsRejected) {
  ASSERT_TRUE(store_.Put("inside/f", "x").ok());
  std::filesystem::create_directories(dir_.File("outside"));
  std::ofstream(dir_.File("outside/secret")) << "secret";
  std::filesystem::create_directory_symlink(dir_.File("outside"), store_.root() + "/link");
  EXPECT_EQ(store_.Read("link/secret").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(store_.Put("link/new", "x").code(), StatusCode::kInvalidArgument);
  EXPECT_FALSE(std::filesystem::exists(dir_.File("outside/new")));
}

TEST_F(ArtifactStoreTest, DeleteFileAndTree) {
  ASSERT_TRUE(store_.Put("t/a/1", "1").ok());
  ASSERT_TRUE(store_.Put("t/a/2", "2").ok());
  ASSERT_TRUE(store_.Put("t/b", "b").ok());
  ASSERT_TRUE(store_.Delete("t/b").ok());
  EXPECT_EQ(store_.Read("t/b").status().code(), StatusCode::kNotFound);
  ASSERT_TRUE(store_.Delete("t/a").ok());
  EXPECT_EQ(store_.Read("t/a/1").status().code(), StatusCode::kNotFound);
  EXPECT_EQ(store_.Delete("t/a").code(), StatusCode::kNotFound);
  EXPECT_EQ(store_.Delete("").code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace closedloop
