// Times closedloop's drift statistics on data written by bench/drift_bench.sh
// (raw little-endian float64 files), so scipy can be timed on the same bytes.
//   drift_bench ks A.bin B.bin          two-sample KS (auto method)
//   drift_bench mmd X.bin Y.bin DIM P   MMD permutation test, P permutations
// Prints one line: seconds=... statistic=... p_value=...
#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "monitor/drift_stats.h"

namespace {

std::vector<double> Load(const char* path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  std::vector<double> v(static_cast<size_t>(in.tellg()) / sizeof(double));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(v.data()),
          static_cast<std::streamsize>(v.size() * sizeof(double)));
  return v;
}

std::vector<std::vector<float>> Rows(const std::vector<double>& flat, size_t dim) {
  std::vector<std::vector<float>> rows;
  for (size_t i = 0; i + dim <= flat.size(); i += dim) {
    rows.emplace_back(flat.begin() + static_cast<long>(i),
                      flat.begin() + static_cast<long>(i + dim));
  }
  return rows;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: drift_bench ks A B | mmd X Y DIM PERMUTATIONS\n");
    return 2;
  }
  std::string what = argv[1];
  auto a = Load(argv[2]), b = Load(argv[3]);
  auto start = std::chrono::steady_clock::now();
  closedloop::StatusOr<closedloop::DriftTest> t = closedloop::DriftTest{};
  if (what == "ks") {
    t = closedloop::KolmogorovSmirnov(a, b);
  } else if (what == "mmd" && argc == 6) {
    size_t dim = std::stoul(argv[4]);
    auto x = Rows(a, dim), y = Rows(b, dim);
    start = std::chrono::steady_clock::now();  // the conversion is not the test
    t = closedloop::MmdPermutationTest(x, y, std::stoi(argv[5]), 1);
  } else {
    std::fprintf(stderr, "unknown benchmark '%s'\n", what.c_str());
    return 2;
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (!t.ok()) {
    std::fprintf(stderr, "%s\n", t.status().message().c_str());
    return 1;
  }
  std::printf("seconds=%.4f statistic=%.6g p_value=%.6g\n", s, t->statistic, t->p_value);
  return 0;
}
