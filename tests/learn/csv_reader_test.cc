#include "learn/csv_reader.h"

#include <gtest/gtest.h>

namespace closedloop {
namespace {

TEST(CsvReaderTest, QuotesCommasNewlinesAndCrlf) {
  auto t = ParseCsv("text,category\r\n\"Hi, \"\"there\"\"\nfriend\",greet\r\nplain,x\n\n", "t.csv");
  ASSERT_TRUE(t.ok()) << t.status().message();
  ASSERT_EQ(t->rows.size(), 2u);
  EXPECT_EQ(t->rows[0][0], "Hi, \"there\"\nfriend");
  EXPECT_EQ(t->rows[0][1], "greet");
  EXPECT_EQ(t->rows[1][0], "plain");
  EXPECT_EQ(*t->Column("category"), 1u);
}

TEST(CsvReaderTest, ErrorsNameLineAndColumn) {
  auto bad = ParseCsv("a,b\n1,2\n3\n", "t.csv");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("t.csv:3"), std::string::npos);
  auto open = ParseCsv("a,b\n\"x,2\n", "t.csv");
  EXPECT_FALSE(open.ok());
  auto t = ParseCsv("a,b\n1,2\n", "t.csv");
  auto col = t->Column("label");
  ASSERT_FALSE(col.ok());
  EXPECT_NE(col.status().message().find("'label'"), std::string::npos);
  EXPECT_NE(col.status().message().find("a, b"), std::string::npos);
}

}  // namespace
}  // namespace closedloop
