#include "feedback/topics.h"

#include <gtest/gtest.h>

#include <random>

namespace closedloop {
namespace {

TEST(TopicsTest, TwoClearGroupsAreFoundWithTheirTermsAndCentres) {
  std::vector<std::string> comments;
  std::vector<std::vector<float>> vectors;
  std::mt19937 rng(3);
  std::normal_distribution<float> noise(0, 0.05f);
  for (int i = 0; i < 12; ++i) {
    comments.push_back("the app crashed again " + std::to_string(i));
    vectors.push_back({1 + noise(rng), 0 + noise(rng), 0 + noise(rng)});
  }
  for (int i = 0; i < 8; ++i) {
    comments.push_back("refund took weeks " + std::to_string(i));
    vectors.push_back({0 + noise(rng), 1 + noise(rng), 0 + noise(rng)});
  }
  comments.push_back("refund took weeks centre");
  vectors.push_back({0, 1, 0});  // exactly at the second group's centre
  TopicModel m = ClusterTopics(comments, vectors);
  ASSERT_EQ(m.k, 2u);
  EXPECT_GT(m.silhouette, 0.8);
  ASSERT_EQ(m.topics.size(), 2u);
  EXPECT_EQ(m.topics[0].size, 12u);  // largest first
  EXPECT_EQ(m.topics[1].size, 9u);
  EXPECT_EQ(m.topics[0].top_terms.size(), 3u);  // app, crashed, again (no stop words, numbers)
  auto has = [](const Topic& t, const std::string& w) {
    return std::find(t.top_terms.begin(), t.top_terms.end(), w) != t.top_terms.end();
  };
  EXPECT_TRUE(has(m.topics[0], "crashed"));
  EXPECT_TRUE(has(m.topics[1], "refund"));
  EXPECT_FALSE(has(m.topics[0], "the"));  // a stop word
  ASSERT_EQ(m.topics[1].representatives.size(), 3u);
  EXPECT_EQ(m.topics[1].representatives[0], "refund took weeks centre");
  // Same input, same topics.
  EXPECT_EQ(ClusterTopics(comments, vectors).topics[1].representatives,
            m.topics[1].representatives);
}

TEST(TopicsTest, TooFewOrIdenticalCommentsGiveNoTopics) {
  EXPECT_EQ(ClusterTopics({"a", "b", "c"}, {{1}, {2}, {3}}).k, 0u);
  std::vector<std::string> same(6, "same");
  std::vector<std::vector<float>> v(6, {0.5f, 0.5f});
  EXPECT_EQ(ClusterTopics(same, v).k, 0u);
}

}  // namespace
}  // namespace closedloop
