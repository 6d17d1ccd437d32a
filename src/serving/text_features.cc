#include "serving/text_features.h"

#include <algorithm>
#include <cmath>
#include <istream>
#include <ostream>
#include <string>

#include "serving/binary_io.h"
#include "serving/text_normalizer.h"

namespace closedloop {

using binary_io::Get;
using binary_io::Put;

namespace {

constexpr uint64_t kFnvOffset = 1469598103934665603ull;
constexpr uint64_t kFnvPrime = 1099511628211ull;
constexpr char kMagic[8] = {'C', 'L', 'F', 'E', 'A', 'T', '0', '1'};

uint64_t Mix(uint64_t h, std::string_view bytes) {
  for (unsigned char c : bytes) h = (h ^ c) * kFnvPrime;
  return h;
}

std::vector<std::string_view> Words(std::string_view s) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && s[i] == ' ') ++i;
    size_t j = i;
    while (j < s.size() && s[j] != ' ') ++j;
    if (j > i) out.push_back(s.substr(i, j - i));
    i = j;
  }
  return out;
}

}  // namespace

template <typename Emit>
void TextFeaturizer::ForEachNgram(std::string_view normalized, Emit&& emit) const {
  const auto words = Words(normalized);
  std::string bounded;
  for (size_t w = 0; w < words.size(); ++w) {
    emit(Mix(Mix(kFnvOffset, "w"), words[w]), false);
    if (options_.word_ngrams >= 2 && w + 1 < words.size()) {
      emit(Mix(Mix(Mix(Mix(kFnvOffset, "b"), words[w]), "\x01"), words[w + 1]), false);
    }
    if (options_.maxn <= 0) continue;
    bounded.assign(" ").append(words[w]).append(" ");
    const size_t len = bounded.size();
    for (int n = std::max(1, options_.minn); n <= options_.maxn; ++n) {
      const size_t un = static_cast<size_t>(n);
      if (un > len) break;
      const uint64_t kind = Mix(Mix(kFnvOffset, "c"), std::string(1, static_cast<char>('0' + n)));
      for (size_t i = 0; i + un <= len; ++i) emit(Mix(kind, bounded.substr(i, un)), true);
    }
  }
}

StatusOr<TextFeaturizer> TextFeaturizer::Fit(const std::vector<std::string_view>& texts,
                                             const FeaturizerOptions& options) {
  if (options.minn < 0 || options.maxn < options.minn || options.word_ngrams < 1) {
    return InvalidArgument("featurizer: need 0 <= minn <= maxn and word_ngrams >= 1");
  }
  TextFeaturizer f;
  f.options_ = options;
  struct Seen {
    int32_t df = 0;
    int32_t last_doc = -1;
    bool is_char = false;
  };
  std::unordered_map<uint64_t, Seen> seen;
  int32_t doc = 0;
  for (std::string_view t : texts) {
    const std::string normalized = NormalizeText(t);
    f.ForEachNgram(normalized, [&](uint64_t h, bool is_char) {
      Seen& s = seen[h];
      if (s.last_doc != doc) {
        s.last_doc = doc;
        ++s.df;
        s.is_char = is_char;
      }
    });
    ++doc;
  }
  std::vector<uint64_t> kept;
  for (const auto& [h, s] : seen) {
    if (s.df >= options.min_df) kept.push_back(h);
  }
  if (kept.empty()) {
    return InvalidArgument("featurizer: no n-gram occurs in " + std::to_string(options.min_df) +
                           " or more texts");
  }
  std::sort(kept.begin(), kept.end());  // a column order that does not depend on hashing order
  const double n = static_cast<double>(texts.size());
  for (uint64_t h : kept) {
    const Seen& s = seen[h];
    f.column_[h] = static_cast<int32_t>(f.hashes_.size());
    f.hashes_.push_back(h);
    f.idf_.push_back(static_cast<float>(std::log((1 + n) / (1 + s.df)) + 1));
    f.is_char_.push_back(s.is_char ? 1 : 0);
  }
  return f;
}

SparseVector TextFeaturizer::Featurize(std::string_view text) const {
  const std::string normalized = NormalizeText(text);
  std::vector<int32_t> hits;
  ForEachNgram(normalized, [&](uint64_t h, bool) {
    auto it = column_.find(h);
    if (it != column_.end()) hits.push_back(it->second);
  });
  std::sort(hits.begin(), hits.end());
  SparseVector v;
  double norm[2] = {0, 0};
  for (size_t i = 0; i < hits.size();) {
    size_t j = i;
    while (j < hits.size() && hits[j] == hits[i]) ++j;
    const int32_t c = hits[i];
    const float x = (1.0f + std::log(static_cast<float>(j - i))) * idf_[static_cast<size_t>(c)];
    v.index.push_back(c);
    v.value.push_back(x);
    norm[is_char_[static_cast<size_t>(c)]] += static_cast<double>(x) * x;
    i = j;
  }
  const int parts = (norm[0] > 0) + (norm[1] > 0);
  for (size_t i = 0; i < v.index.size(); ++i) {
    const double n = norm[is_char_[static_cast<size_t>(v.index[i])]];
    v.value[i] = static_cast<float>(v.value[i] / std::sqrt(n * parts));
  }
  return v;
}

double TextFeaturizer::UnknownWordRate(std::string_view text) const {
  const std::string normalized = NormalizeText(text);
  const auto words = Words(normalized);
  if (words.empty()) return 0;
  size_t unknown = 0;
  for (std::string_view w : words) {
    if (!column_.count(Mix(Mix(kFnvOffset, "w"), w))) ++unknown;
  }
  return static_cast<double>(unknown) / static_cast<double>(words.size());
}

void TextFeaturizer::Write(std::ostream& out) const {
  out.write(kMagic, sizeof kMagic);
  Put<int32_t>(out, options_.word_ngrams);
  Put<int32_t>(out, options_.minn);
  Put<int32_t>(out, options_.maxn);
  Put<int32_t>(out, options_.min_df);
  Put<uint64_t>(out, hashes_.size());
  out.write(reinterpret_cast<const char*>(hashes_.data()),
            static_cast<std::streamsize>(hashes_.size() * sizeof(uint64_t)));
  out.write(reinterpret_cast<const char*>(idf_.data()),
            static_cast<std::streamsize>(idf_.size() * sizeof(float)));
  out.write(reinterpret_cast<const char*>(is_char_.data()),
            static_cast<std::streamsize>(is_char_.size()));
}

StatusOr<TextFeaturizer> TextFeaturizer::Read(std::istream& in) {
  char magic[sizeof kMagic];
  if (!in.read(magic, sizeof magic) || !std::equal(magic, magic + sizeof magic, kMagic)) {
    return InvalidArgument("not a closedloop featurizer (bad magic)");
  }
  TextFeaturizer f;
  int32_t wn = 0, minn = 0, maxn = 0, min_df = 0;
  uint64_t n = 0;
  if (!Get(in, wn) || !Get(in, minn) || !Get(in, maxn) || !Get(in, min_df) || !Get(in, n)) {
    return InvalidArgument("featurizer header is truncated");
  }
  if (wn < 1 || wn > 2 || minn < 0 || maxn < minn || maxn > 32 || n == 0 || n > (1u << 28)) {
    return InvalidArgument("featurizer header is corrupt");
  }
  f.options_ = {wn, minn, maxn, min_df};
  f.hashes_.resize(n);
  f.idf_.resize(n);
  f.is_char_.resize(n);
  if (!in.read(reinterpret_cast<char*>(f.hashes_.data()),
               static_cast<std::streamsize>(n * sizeof(uint64_t))) ||
      !in.read(reinterpret_cast<char*>(f.idf_.data()),
               static_cast<std::streamsize>(n * sizeof(float))) ||
      !in.read(reinterpret_cast<char*>(f.is_char_.data()), static_cast<std::streamsize>(n))) {
    return InvalidArgument("featurizer vocabulary is truncated");
  }
  f.column_.reserve(n);
  for (size_t i = 0; i < n; ++i) {
    if (f.is_char_[i] > 1 || !std::isfinite(f.idf_[i])) {
      return InvalidArgument("featurizer vocabulary is corrupt");
    }
    f.column_[f.hashes_[i]] = static_cast<int32_t>(i);
  }
  return f;
}

}  // namespace closedloop
