// TextFeaturizer: a text as a sparse TF-IDF vector over word unigrams, word
// bigrams and character n-grams of each word (with its boundaries, " word "),
// the input of the MLP head. The same code featurizes at training and serving.
//
// Text goes through NormalizeText first. Each n-gram is named by a 64-bit
// FNV-1a hash of its kind and bytes; the vocabulary keeps the hashes seen in at
// least `min_df` training texts, each with its column and inverse document
// frequency idf = ln((1 + n) / (1 + df)) + 1. A feature's value is
// (1 + ln tf) * idf; the word part and the character part are each L2-normalized
// and then scaled by 1/sqrt(2), so the whole vector has unit norm (as
// concatenating two normalized TF-IDF vectorizers and normalizing again).
// N-grams outside the vocabulary are dropped.
//
// Thread safety: immutable after Fit/Read; Featurize is safe to call concurrently.
#pragma once

#include <cstdint>
#include <iosfwd>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/status.h"

namespace closedloop {

struct SparseVector {
  std::vector<int32_t> index;  // columns, ascending, unique
  std::vector<float> value;
};

struct FeaturizerOptions {
  int word_ngrams = 2;  // 1: unigrams only, 2: and bigrams
  int minn = 2;         // character n-gram lengths; 0/0: no character n-grams
  int maxn = 5;
  int min_df = 2;  // texts an n-gram must occur in to become a feature
};

class TextFeaturizer {
 public:
  // Builds the vocabulary and idf from training texts (raw, not yet normalized).
  // InvalidArgument when no feature reaches min_df.
  static StatusOr<TextFeaturizer> Fit(const std::vector<std::string_view>& texts,
                                      const FeaturizerOptions& options);
  // The binary form written by Write (little-endian); an error on a short or foreign stream.
  static StatusOr<TextFeaturizer> Read(std::istream& in);
  void Write(std::ostream& out) const;

  SparseVector Featurize(std::string_view text) const;
  // Share of the text's words that are not features (0 for no words).
  double UnknownWordRate(std::string_view text) const;
  size_t dimension() const { return idf_.size(); }
  const FeaturizerOptions& options() const { return options_; }

 private:
  // Calls emit(hash, is_char) for every n-gram occurrence of the normalized text.
  template <typename Emit>
  void ForEachNgram(std::string_view normalized, Emit&& emit) const;
  FeaturizerOptions options_;
  std::vector<uint64_t> hashes_;  // by column
  std::vector<float> idf_;        // by column
  std::vector<uint8_t> is_char_;  // by column: 1 for a character n-gram
  std::unordered_map<uint64_t, int32_t> column_;
};

}  // namespace closedloop
