#include "core/status.h"

#include <gtest/gtest.h>

namespace closedloop {
namespace {

StatusOr<int> Half(int x) {
  if (x % 2 != 0) return InvalidArgument("field 'x' must be even");
  return x / 2;
}

StatusOr<int> Quarter(int x) {
  ASSIGN_OR_RETURN(int h, Half(x));
  ASSIGN_OR_RETURN(int q, Half(h));
  return q;
}

Status Check(int x) {
  RETURN_IF_ERROR(Half(x).status());
  return OkStatus();
}

TEST(StatusTest, OkAndErrorValues) {
  EXPECT_TRUE(OkStatus().ok());
  Status s = NotFound("model 'x' is not loaded");
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kNotFound);
  EXPECT_EQ(s.ToString(), "NOT_FOUND: model 'x' is not loaded");
  EXPECT_EQ(s.WithContext("loading").message(), "loading: model 'x' is not loaded");
}

TEST(StatusTest, AssignOrReturnPropagatesFirstError) {
  ASSERT_TRUE(Quarter(8).ok());
  EXPECT_EQ(*Quarter(8), 2);
  auto r = Quarter(6);  // 6 -> 3 -> odd
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(r.status().message(), "field 'x' must be even");
}

TEST(StatusTest, ReturnIfError) {
  EXPECT_TRUE(Check(2).ok());
  EXPECT_EQ(Check(3).code(), StatusCode::kInvalidArgument);
}

TEST(StatusTest, StatusOrFromOkStatusIsAnError) {
  StatusOr<int> r = OkStatus();
  EXPECT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kInternal);
}

}  // namespace
}  // namespace closedloop
