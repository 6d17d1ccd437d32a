#include "learn/progress_bar.h"

#include <gtest/gtest.h>

#include <sstream>

namespace closedloop {
namespace {

TEST(ProgressBarTest, RedrawsInPlaceOnlyWhenThePercentChanges) {
  std::ostringstream out;
  ProgressBar bar(out, "training", 10);
  bar.Update(0.5, "epoch 5/10");
  bar.Update(0.501, "epoch 5/10");  // same percent: no redraw
  bar.Update(1.0, "done");
  bar.Finish();
  std::string s = out.str();
  EXPECT_EQ(s.find("\rtraining [#####.....]  50% epoch 5/10"), 0u) << s;
  EXPECT_EQ(std::count(s.begin(), s.end(), '\r'), 2);
  EXPECT_NE(s.find("[##########] 100% done"), std::string::npos);
  EXPECT_EQ(s.back(), '\n');
  EXPECT_FALSE(ProgressEnabled(ProgressMode::kNever));
  EXPECT_TRUE(ProgressEnabled(ProgressMode::kAlways));
}

}  // namespace
}  // namespace closedloop
