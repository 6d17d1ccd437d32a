#include "learn/table_reader.h"

#include <gtest/gtest.h>

#include "learn/stratified_split.h"

namespace closedloop {
namespace {

TEST(TableReaderTest, TsvSplitsOnTabsWithoutQuoting) {
  auto t =
      ParseTable("sentence\tscore\r\nSay \"hi\", ok\t1\n\nbad\t0\n", TableFormat::kTsv, "s.tsv");
  ASSERT_TRUE(t.ok()) << t.status().message();
  ASSERT_EQ(t->rows.size(), 2u);
  EXPECT_EQ(t->rows[0][0], "Say \"hi\", ok");
  EXPECT_EQ(t->rows[1][1], "0");
}

TEST(TableReaderTest, JsonlStringifiesScalarsAndChecksKeys) {
  auto t = ParseTable(R"({"text":"hi","label":"a","n":2.5,"ok":true,"x":null})"
                      "\n"
                      R"({"label":"b","text":"yo","n":1,"ok":false,"x":"s"})"
                      "\n",
                      TableFormat::kJsonl, "d.jsonl");
  ASSERT_TRUE(t.ok()) << t.status().message();
  EXPECT_EQ(t->header, (std::vector<std::string>{"text", "label", "n", "ok", "x"}));
  EXPECT_EQ(t->rows[0], (std::vector<std::string>{"hi", "a", "2.5", "true", ""}));
  EXPECT_EQ(t->rows[1][0], "yo");  // by key, not position
  auto missing = ParseTable("{\"text\":\"a\",\"label\":\"b\"}\n{\"text\":\"c\",\"lbl\":\"d\"}\n",
                            TableFormat::kJsonl, "d.jsonl");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("d.jsonl:2: missing field 'label'"), std::string::npos)
      << missing.status().message();
  auto extra =
      ParseTable("{\"text\":\"a\"}\n{\"text\":\"c\",\"more\":1}\n", TableFormat::kJsonl, "d.jsonl");
  ASSERT_FALSE(extra.ok());
  EXPECT_NE(extra.status().message().find("d.jsonl:2: 2 fields"), std::string::npos);
  auto nested = ParseTable("{\"text\":[1]}\n", TableFormat::kJsonl, "d.jsonl");
  EXPECT_FALSE(nested.ok());
  auto broken = ParseTable("{\"text\":\n", TableFormat::kJsonl, "d.jsonl");
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("d.jsonl:1"), std::string::npos);
}

TEST(TableReaderTest, RejectsInvalidUtf8EmptyFilesAndRaggedRows) {
  auto bad = ParseTable("text,label\nok,a\ncaf\xe9,b\n", TableFormat::kCsv, "d.csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("data row 2, column 'text': text is not valid UTF-8"),
            std::string::npos)
      << bad.status().message();
  EXPECT_FALSE(ParseTable("", TableFormat::kTsv, "e.tsv").ok());
  auto header_only = ParseTable("text\tlabel\n", TableFormat::kTsv, "h.tsv");
  ASSERT_FALSE(header_only.ok());
  EXPECT_NE(header_only.status().message().find("no data rows"), std::string::npos);
  auto ragged = ParseTable("a\tb\n1\t2\t3\n", TableFormat::kTsv, "r.tsv");
  ASSERT_FALSE(ragged.ok());
  EXPECT_NE(ragged.status().message().find("r.tsv:2: 3 fields, header has 2"), std::string::npos);
}

TEST(TableReaderTest, FormatFromFileName) {
  EXPECT_EQ(*ResolveTableFormat(TableFormat::kAuto, "a/b.JSONL"), TableFormat::kJsonl);
  EXPECT_EQ(*ResolveTableFormat(TableFormat::kAuto, "b.tsv"), TableFormat::kTsv);
  EXPECT_EQ(*ResolveTableFormat(TableFormat::kCsv, "b.txt"), TableFormat::kCsv);
  auto unknown = ResolveTableFormat(TableFormat::kAuto, "b.txt");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.status().message().find("--format"), std::string::npos);
  EXPECT_FALSE(ParseTableFormat("xml").ok());
  EXPECT_EQ(ReadTable("/nonexistent/file.csv").status().code(), StatusCode::kNotFound);
}

CsvTable Labels(const std::vector<std::string>& labels) {
  CsvTable t;
  t.header = {"label"};
  for (const auto& l : labels) t.rows.push_back({l});
  return t;
}

TEST(StratifiedSplitTest, HoldsOutAShareOfEveryLabelAndIsSeeded) {
  std::vector<std::string> labels;
  for (int i = 0; i < 50; ++i) labels.push_back("a");
  for (int i = 0; i < 20; ++i) labels.push_back("b");
  labels.push_back("c");
  labels.push_back("c");
  labels.push_back("");  // unlabelled: in neither part
  CsvTable t = Labels(labels);
  RowSplit s = StratifiedSplit(t, 0, 0.1, 7);
  int held[3] = {0, 0, 0};
  for (size_t r : s.held_out) held[t.rows[r][0][0] - 'a']++;
  EXPECT_EQ(held[0], 5);
  EXPECT_EQ(held[1], 2);
  EXPECT_EQ(held[2], 1);  // at least one of a label with two rows, never both
  EXPECT_EQ(s.kept.size() + s.held_out.size(), 72u);
  EXPECT_EQ(StratifiedSplit(t, 0, 0.1, 7).held_out, s.held_out);
  EXPECT_NE(StratifiedSplit(t, 0, 0.1, 8).held_out, s.held_out);
}

TEST(StratifiedSplitTest, ALabelWithOneExampleIsAnError) {
  CsvTable t = Labels({"a", "a", "lonely"});
  Status s = RequireRowsPerLabel(t, 0, 2, "d.csv");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message(),
            "d.csv: label 'lonely' has 1 example; every label needs at least 2 to be trained and "
            "validated");
}

}  // namespace
}  // namespace closedloop
