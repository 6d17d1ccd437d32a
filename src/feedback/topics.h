// Topics of free-text comments: k-means (k-means++ seeding, a fixed seed, so the
// same comments give the same topics) on their sentence vectors, k chosen by the
// mean silhouette over k = 2..max_k; per topic its size, top terms (words most
// over-represented in the topic against all comments, stop words left out) and the
// 3 comments nearest its centre. Pure function of its inputs; thread-safe.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace closedloop {

struct Topic {
  size_t size = 0;
  std::vector<std::string> top_terms;        // up to 5
  std::vector<std::string> representatives;  // up to 3, nearest the centre first
  std::vector<size_t> members;               // indices into `comments`, nearest the centre first
  std::vector<std::string> request_ids;      // the members' predictions, when the caller knows them
};

struct TopicModel {
  size_t k = 0;               // 0: fewer than 4 comments, no clustering
  double silhouette = 0;      // mean silhouette of the chosen k
  std::vector<Topic> topics;  // largest first
};

// `vectors[i]` is the embedding of `comments[i]` (same dimension for all).
TopicModel ClusterTopics(const std::vector<std::string>& comments,
                         const std::vector<std::vector<float>>& vectors, size_t max_k = 6,
                         uint32_t seed = 42);

}  // namespace closedloop
