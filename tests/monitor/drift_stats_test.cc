// Drift statistics against independent values: scipy (Debian's python3-scipy) and
// numpy, run on the same data in tests/monitor/drift_oracle.py.
#include "monitor/drift_stats.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <fstream>
#include <random>

#include "support/command.h"
#include "support/temp_dir.h"

namespace closedloop {
namespace {

std::vector<double> Normal(size_t n, double mean, double sd, uint32_t seed, bool round = false) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> d(mean, sd);
  std::vector<double> v(n);
  for (double& x : v) x = round ? std::round(d(rng) * 2) / 2 : d(rng);
  return v;
}

void Write(const std::string& path, const std::vector<double>& v) {
  std::ofstream out(path);
  out.precision(17);
  for (double x : v) out << x << "\n";
}

class DriftStatsTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new testing::TempDir();
    auto put = [](const std::string& name, const std::vector<double>& a,
                  const std::vector<double>& b) {
      data_[name] = {a, b};
      Write(dir_->File(name + ".a"), a);
      Write(dir_->File(name + ".b"), b);
    };
    put("ks_small", Normal(50, 0, 1, 1), Normal(60, 0.5, 1, 2));
    put("ks_same", Normal(300, 0, 1, 3), Normal(300, 0, 1, 4));
    put("ks_ties", Normal(400, 0, 1, 5, true), Normal(350, 0.1, 1, 6, true));
    put("ks_unequal", Normal(2000, 0, 1, 7), Normal(700, 0.1, 1.1, 8));
    put("ks_big_drift", Normal(20000, 0, 1, 9), Normal(15000, 0.08, 1, 10));
    put("ks_big_same", Normal(30000, 0, 1, 11), Normal(25000, 0, 1, 12));
    put("num", Normal(5000, 10, 2, 13), Normal(3000, 10.6, 2.4, 14));
    put("cat", {500, 300, 150, 50}, {380, 330, 200, 90});
    put("pvalues", {0.01, 0.04, 0.03, 0.5, 0.002, 0.2}, {});
    std::vector<double> x = Normal(60 * 8, 0, 1, 15), y = Normal(50 * 8, 0.4, 1, 16);
    put("mmd", x, y);
    auto run = testing::RunCommand(
        "/usr/bin/python3 " CLOSEDLOOP_SOURCE_DIR "/tests/monitor/drift_oracle.py " + dir_->path());
    ASSERT_EQ(run.exit_code, 0) << run.output;
    oracle_ = new std::string(run.output);
  }
  static void TearDownTestSuite() {
    delete dir_;
    delete oracle_;
  }
  static double Expect(const char* c, const char* key) {
    thread_local simdjson::dom::parser parser;
    simdjson::dom::element doc = parser.parse(*oracle_);
    return doc[c][key].get_double().value();
  }

  static inline testing::TempDir* dir_ = nullptr;
  static inline std::string* oracle_ = nullptr;
  static inline std::map<std::string, std::pair<std::vector<double>, std::vector<double>>> data_;
};

// Exact p-values agree to 1e-9 (relative, or absolute below 1e-6).
void ExpectP(double got, double want) {
  if (want < 1e-6) {
    EXPECT_NEAR(got, want, 1e-9);
  } else {
    EXPECT_NEAR(got, want, want * 1e-9);
  }
}

TEST_F(DriftStatsTest, KolmogorovSmirnovExactMatchesScipy) {
  for (const char* c : {"ks_small", "ks_same", "ks_ties", "ks_unequal"}) {
    auto& [a, b] = data_[c];
    auto t = KolmogorovSmirnov(a, b, KsMethod::kExact);
    ASSERT_TRUE(t.ok()) << c;
    EXPECT_NEAR(t->statistic, Expect(c, "statistic"), 1e-12) << c;
    SCOPED_TRACE(c);
    ExpectP(t->p_value, Expect(c, "p_value"));
  }
}

TEST_F(DriftStatsTest, KolmogorovSmirnovAsymptoticAboveTenThousand) {
  auto& [a, b] = data_["ks_big_drift"];
  auto t = KolmogorovSmirnov(a, b);  // auto: asymptotic
  ASSERT_TRUE(t.ok());
  EXPECT_NEAR(t->statistic, Expect("ks_big_drift", "statistic"), 1e-12);
  // en·D² >= 2.2: 2·Smirnov, the same exact formula scipy uses there.
  EXPECT_GE(20000.0 * 15000 / 35000 * t->statistic * t->statistic, 2.2);
  EXPECT_LT(t->p_value, 1e-6);
  EXPECT_NEAR(t->p_value, Expect("ks_big_drift", "p_value"),
              Expect("ks_big_drift", "p_value") * 1e-6 + 1e-15);
  auto& [c, d] = data_["ks_big_same"];
  t = KolmogorovSmirnov(c, d);
  ASSERT_TRUE(t.ok());
  EXPECT_NEAR(t->statistic, Expect("ks_big_same", "statistic"), 1e-12);
  EXPECT_LT(30000.0 * 25000 / 55000 * t->statistic * t->statistic, 2.2);
  EXPECT_GT(t->p_value, 0.01);
  // Below: Kolmogorov's limit with Stephens' correction, within 0.005 of scipy's
  // finite-n distribution.
  EXPECT_NEAR(t->p_value, Expect("ks_big_same", "p_value"), 5e-3);
}

TEST_F(DriftStatsTest, PsiWassersteinChiSquareJensenShannonMatchTheOracle) {
  auto& [a, b] = data_["num"];
  EXPECT_NEAR(Psi(a, b).value(), Expect("num", "psi"), 1e-12);
  EXPECT_NEAR(WassersteinNormalized(a, b).value(), Expect("num", "wasserstein_norm"), 1e-9);
  auto& [r, c] = data_["cat"];
  auto chi = ChiSquare(r, c);
  ASSERT_TRUE(chi.ok());
  EXPECT_NEAR(chi->statistic, Expect("cat", "chi2"), 1e-9);
  EXPECT_NEAR(chi->p_value, Expect("cat", "p_value"), Expect("cat", "p_value") * 1e-9);
  EXPECT_NEAR(JensenShannonDistance(r, c).value(), Expect("cat", "js"), 1e-12);
}

TEST_F(DriftStatsTest, CorrectionsMatchTheTextbook) {
  auto& p = data_["pvalues"].first;
  auto bh = BenjaminiHochberg(p);
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc = parser.parse(*oracle_);
  auto want = doc["bh"].get_array();
  size_t i = 0;
  for (auto v : want.value()) EXPECT_NEAR(bh[i++], v.get_double().value(), 1e-12);
  auto bon = Bonferroni(p);
  EXPECT_DOUBLE_EQ(bon[0], 0.06);
  EXPECT_DOUBLE_EQ(bon[3], 1.0);
}

TEST_F(DriftStatsTest, MmdStatisticMatchesNumpyAndThePermutationTestSeesTheShift) {
  auto to_rows = [](const std::vector<double>& flat) {
    std::vector<std::vector<float>> rows;
    for (size_t i = 0; i < flat.size(); i += 8) {
      rows.emplace_back(flat.begin() + static_cast<long>(i),
                        flat.begin() + static_cast<long>(i) + 8);
    }
    return rows;
  };
  auto& [x, y] = data_["mmd"];
  auto t = MmdPermutationTest(to_rows(x), to_rows(y), 200, 1);
  ASSERT_TRUE(t.ok());
  EXPECT_NEAR(t->statistic, Expect("mmd", "statistic"), 1e-6);  // float inputs
  EXPECT_LT(t->p_value, 0.01);
  auto same = MmdPermutationTest(to_rows(x), to_rows(Normal(50 * 8, 0, 1, 17)), 200, 1);
  ASSERT_TRUE(same.ok());
  EXPECT_GT(same->p_value, 0.05);
}

TEST(DriftStatsBadInputTest, EmptyConstantNonFiniteAndSingleCategoryAreClearStates) {
  std::vector<double> empty, some = {1, 2, 3}, constant = {2, 2, 2, 2};
  auto e = KolmogorovSmirnov(empty, some);
  EXPECT_EQ(e.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(e.status().message().find("not enough data"), std::string::npos);
  std::vector<double> nan = {1, std::nan(""), 3};
  EXPECT_EQ(KolmogorovSmirnov(some, nan).status().code(), StatusCode::kInvalidArgument);
  size_t dropped = 0;
  EXPECT_EQ(FiniteOnly(nan, &dropped).size(), 2u);
  EXPECT_EQ(dropped, 1u);
  EXPECT_EQ(WassersteinNormalized(constant, some).status().code(), StatusCode::kFailedPrecondition);
  // A constant reference still has a PSI (everything in one bin): finite, large.
  auto psi = Psi(constant, some);
  ASSERT_TRUE(psi.ok());
  EXPECT_TRUE(std::isfinite(*psi));
  EXPECT_EQ(PsiSeverity(*psi), Severity::kCritical);
  std::vector<double> one = {10, 0, 0}, cur = {4, 0, 0};
  auto chi = ChiSquare(one, cur);
  EXPECT_EQ(chi.status().code(), StatusCode::kFailedPrecondition);
  EXPECT_NE(chi.status().message().find("single category"), std::string::npos);
  std::vector<double> unseen = {0, 5}, cur2 = {1, 5};
  EXPECT_EQ(ChiSquare(unseen, cur2).status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(PsiSeverity(0.05), Severity::kOk);
  EXPECT_EQ(PsiSeverity(0.1), Severity::kWarning);
  EXPECT_EQ(PsiSeverity(0.25), Severity::kWarning);
  EXPECT_EQ(PsiSeverity(0.26), Severity::kCritical);
  EXPECT_TRUE(DatasetDrift(5, 10));
  EXPECT_FALSE(DatasetDrift(4, 10));
  EXPECT_FALSE(DatasetDrift(0, 0));
  // Identical samples: D = 0, p = 1.
  auto same = KolmogorovSmirnov(some, some);
  EXPECT_EQ(same->statistic, 0);
  EXPECT_EQ(same->p_value, 1);
}

}  // namespace
}  // namespace closedloop
