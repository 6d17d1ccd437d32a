#include "feedback/topics.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <random>
#include <set>

#include "serving/text_normalizer.h"

namespace closedloop {

namespace {

using Point = std::vector<double>;

double Distance(const Point& a, const Point& b) {
  double d = 0;
  for (size_t i = 0; i < a.size(); ++i) d += (a[i] - b[i]) * (a[i] - b[i]);
  return std::sqrt(d);
}

// Lloyd's k-means with k-means++ seeding. Returns each point's cluster.
std::vector<size_t> KMeans(const std::vector<Point>& x, size_t k, std::mt19937& rng,
                           std::vector<Point>& centres) {
  const size_t n = x.size();
  centres.clear();
  centres.push_back(x[std::uniform_int_distribution<size_t>(0, n - 1)(rng)]);
  std::vector<double> d2(n);
  while (centres.size() < k) {
    double total = 0;
    for (size_t i = 0; i < n; ++i) {
      double best = std::numeric_limits<double>::max();
      for (const auto& c : centres) best = std::min(best, Distance(x[i], c));
      d2[i] = best * best;
      total += d2[i];
    }
    if (total <= 0) break;  // fewer distinct points than k
    double pick = std::uniform_real_distribution<double>(0, total)(rng);
    size_t chosen = n - 1;
    for (size_t i = 0; i < n; ++i) {
      pick -= d2[i];
      if (pick <= 0) {
        chosen = i;
        break;
      }
    }
    centres.push_back(x[chosen]);
  }
  std::vector<size_t> assign(n, 0);
  for (int iter = 0; iter < 100; ++iter) {
    bool changed = false;
    for (size_t i = 0; i < n; ++i) {
      size_t best = 0;
      double best_d = std::numeric_limits<double>::max();
      for (size_t c = 0; c < centres.size(); ++c) {
        double d = Distance(x[i], centres[c]);
        if (d < best_d) best_d = d, best = c;
      }
      if (assign[i] != best) assign[i] = best, changed = true;
    }
    for (size_t c = 0; c < centres.size(); ++c) {
      Point sum(x[0].size(), 0);
      size_t count = 0;
      for (size_t i = 0; i < n; ++i) {
        if (assign[i] != c) continue;
        for (size_t j = 0; j < sum.size(); ++j) sum[j] += x[i][j];
        ++count;
      }
      if (count == 0) continue;  // keep an empty cluster's centre
      for (double& v : sum) v /= static_cast<double>(count);
      centres[c] = std::move(sum);
    }
    if (!changed && iter > 0) break;
  }
  return assign;
}

// Mean silhouette: (b − a) / max(a, b) per point; a point alone in its cluster scores 0.
double Silhouette(const std::vector<Point>& x, const std::vector<size_t>& assign, size_t k) {
  const size_t n = x.size();
  double total = 0;
  for (size_t i = 0; i < n; ++i) {
    std::vector<double> sum(k, 0);
    std::vector<size_t> count(k, 0);
    for (size_t j = 0; j < n; ++j) {
      if (j == i) continue;
      sum[assign[j]] += Distance(x[i], x[j]);
      count[assign[j]]++;
    }
    if (count[assign[i]] == 0) continue;
    double a = sum[assign[i]] / static_cast<double>(count[assign[i]]);
    double b = std::numeric_limits<double>::max();
    for (size_t c = 0; c < k; ++c) {
      if (c != assign[i] && count[c] > 0) b = std::min(b, sum[c] / static_cast<double>(count[c]));
    }
    if (b == std::numeric_limits<double>::max()) continue;
    double m = std::max(a, b);
    if (m > 0) total += (b - a) / m;
  }
  return total / static_cast<double>(n);
}

const std::set<std::string>& StopWords() {
  static const std::set<std::string> kWords = {
      "a",    "an",   "and",  "are",  "as",  "at",    "be",   "but",  "by",  "for",
      "i",    "in",   "is",   "it",   "me",  "my",    "not",  "of",   "on",  "or",
      "so",   "that", "the",  "this", "to",  "was",   "we",   "with", "you", "your",
      "have", "has",  "had",  "do",   "did", "very",  "just", "it's", "i'm", "am",
      "been", "were", "they", "them", "our", "their", "from", "all",  "can", "will"};
  return kWords;
}

std::set<std::string> Words(const std::string& text) {
  std::set<std::string> out;
  std::string norm = NormalizeText(text);
  size_t at = 0;
  while (at < norm.size()) {
    size_t end = norm.find(' ', at);
    if (end == std::string::npos) end = norm.size();
    std::string w = norm.substr(at, end - at);
    if (w.size() > 1 && std::isalpha(static_cast<unsigned char>(w[0])) && !StopWords().count(w)) {
      out.insert(w);
    }
    at = end + 1;
  }
  return out;
}

}  // namespace

TopicModel ClusterTopics(const std::vector<std::string>& comments,
                         const std::vector<std::vector<float>>& vectors, size_t max_k,
                         uint32_t seed) {
  TopicModel model;
  const size_t n = std::min(comments.size(), vectors.size());
  if (n < 4) return model;
  std::vector<Point> x;
  for (size_t i = 0; i < n; ++i) x.emplace_back(vectors[i].begin(), vectors[i].end());
  std::mt19937 rng(seed);
  std::vector<size_t> best_assign;
  std::vector<Point> best_centres;
  double best_score = -2;
  for (size_t k = 2; k <= std::min(max_k, n - 1); ++k) {
    std::vector<Point> centres;
    auto assign = KMeans(x, k, rng, centres);
    if (centres.size() < k) break;  // not enough distinct comments
    double s = Silhouette(x, assign, k);
    if (s > best_score) {
      best_score = s, model.k = k, best_assign = std::move(assign);
      best_centres = std::move(centres);
    }
  }
  if (model.k == 0) return model;
  model.silhouette = best_score;
  // Document frequency of words overall and per topic, for the top terms.
  std::vector<std::set<std::string>> words(n);
  std::map<std::string, size_t> df;
  for (size_t i = 0; i < n; ++i) {
    words[i] = Words(comments[i]);
    for (const auto& w : words[i]) df[w]++;
  }
  for (size_t c = 0; c < model.k; ++c) {
    Topic t;
    std::vector<std::pair<double, size_t>> members;  // (distance to centre, index)
    std::map<std::string, size_t> tf;
    for (size_t i = 0; i < n; ++i) {
      if (best_assign[i] != c) continue;
      members.emplace_back(Distance(x[i], best_centres[c]), i);
      for (const auto& w : words[i]) tf[w]++;
    }
    t.size = members.size();
    if (t.size == 0) continue;
    std::sort(members.begin(), members.end());
    for (const auto& m : members) t.members.push_back(m.second);
    for (size_t r = 0; r < std::min<size_t>(3, members.size()); ++r) {
      t.representatives.push_back(comments[members[r].second]);
    }
    // Lift: share of the topic's comments with the word over its share overall,
    // weighted by how many of the topic's comments have it.
    std::vector<std::pair<double, std::string>> scored;
    for (const auto& [w, count] : tf) {
      double in_topic = static_cast<double>(count) / static_cast<double>(t.size);
      double overall = static_cast<double>(df[w]) / static_cast<double>(n);
      scored.emplace_back(-(in_topic * std::log(1 + in_topic / overall)), w);
    }
    std::sort(scored.begin(), scored.end());
    for (size_t r = 0; r < std::min<size_t>(5, scored.size()); ++r) {
      t.top_terms.push_back(scored[r].second);
    }
    model.topics.push_back(std::move(t));
  }
  std::stable_sort(model.topics.begin(), model.topics.end(),
                   [](const Topic& a, const Topic& b) { return a.size > b.size; });
  return model;
}

}  // namespace closedloop
