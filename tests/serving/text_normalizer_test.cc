#include "serving/text_normalizer.h"

#include <gtest/gtest.h>

namespace closedloop {
namespace {

TEST(TextNormalizerTest, LowercasesSplitsPunctuationFoldsSpace) {
  EXPECT_EQ(NormalizeText("Where's my CARD?!"), "where's my card ? !");
  EXPECT_EQ(NormalizeText("  a\t\tb\r\nc  "), "a b c");
  EXPECT_EQ(NormalizeText("top-up, e-mail_x 24h"), "top-up , e-mail_x 24h");
  EXPECT_EQ(NormalizeText("Café"), "café");  // non-ASCII kept as is
  EXPECT_EQ(NormalizeText("..."), ". . .");
  EXPECT_EQ(NormalizeText("a\x01"
                          "b"),
            "a b");  // control bytes become separators
}

}  // namespace
}  // namespace closedloop
