// reference_profile.json: what training writes is what the drift monitor reads.
#include "monitor/reference_profile.h"

#include <gtest/gtest.h>

namespace closedloop {
namespace {

TEST(ReferenceProfileTest, TabularProfileRoundTrips) {
  ReferenceProfile p;
  p.rows = 3;
  p.confidence = {0.9, 0.8, 0.7};
  p.predicted = {{"no", 1}, {"yes", 2}};
  p.truth = {{"no", 2}, {"yes", 1}};
  p.accuracy = 2.0 / 3;
  p.features.push_back({"x1", false, {1.5, -2, 3}, {}, 0});
  p.features.push_back({"colour", true, {}, {{"blue", 2}, {"red", 1}}, 0.25});
  auto back = ParseReferenceProfile(ReferenceProfileJson(p));
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->rows, 3u);
  ASSERT_TRUE(back->accuracy);
  EXPECT_NEAR(*back->accuracy, 2.0 / 3, 1e-12);
  ASSERT_EQ(back->features.size(), 2u);
  EXPECT_EQ(back->features[0].name, "x1");
  EXPECT_FALSE(back->features[0].categorical);
  EXPECT_EQ(back->features[0].sample, (std::vector<double>{1.5, -2, 3}));
  EXPECT_TRUE(back->features[1].categorical);
  EXPECT_EQ(back->features[1].counts.at("blue"), 2);
  EXPECT_EQ(back->features[1].missing_share, 0.25);
  EXPECT_EQ(back->predicted, p.predicted);
}

TEST(ReferenceProfileTest, ProfilesWithoutAccuracyOrFeaturesStillParse) {
  auto p = ParseReferenceProfile(
      R"({"rows":1,"text_length":[3],"oov_rate":[0],"confidence":[0.5],"predicted":{"a":1},)"
      R"("truth":{},"vectors":[]})");
  ASSERT_TRUE(p.ok()) << p.status().message();
  EXPECT_FALSE(p->accuracy);
  EXPECT_TRUE(p->features.empty());
}

TEST(ReferenceProfileTest, MalformedFeaturesAreErrorsNamingThem) {
  const std::string base =
      R"({"rows":1,"text_length":[],"oov_rate":[],"confidence":[],"predicted":{},"truth":{},)"
      R"("vectors":[],"features":)";
  auto no_sample =
      ParseReferenceProfile(base + R"([{"name":"x1","categorical":false,"missing_share":0}]})");
  ASSERT_FALSE(no_sample.ok());
  EXPECT_NE(no_sample.status().message().find("'x1'"), std::string::npos);
  auto no_name = ParseReferenceProfile(base + R"([{"categorical":true}]})");
  EXPECT_FALSE(no_name.ok());
  EXPECT_FALSE(ParseReferenceProfile("{not json").ok());
}

}  // namespace
}  // namespace closedloop
