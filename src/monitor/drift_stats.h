// Drift statistics: is the current (production) data distributed like the
// reference (training) data? Pure functions over finite values; thread-safe.
// Empty inputs are FailedPrecondition ("not enough data"), non-finite values
// InvalidArgument — callers drop them first with FiniteOnly() and report how many.
//
// Conventions follow scipy and Evidently so numbers can be checked against them:
//   KolmogorovSmirnov  two-sample, two-sided, as scipy.stats.ks_2samp: statistic
//                      D = sup|F_ref − F_cur| in O(n log n); p-value exact (lattice
//                      paths, O(n·m)) when both samples have ≤ 10,000 values
//                      (kAuto), else asymptotic with en = n·m/(n+m): 2·Smirnov(en, D)
//                      (Birnbaum–Tingey, exact one-sided) where en·D² ≥ 2.2, the
//                      Kolmogorov limit with Stephens' correction below that.
//   Psi                population stability index over `bins` quantile bins of the
//                      reference; an empty bin's share is replaced by 1e-4.
//   JensenShannonDistance  sqrt of the JS divergence, base 2 (scipy.spatial.distance
//                      .jensenshannon(p, q, base=2)); inputs are normalized.
//   ChiSquare          Pearson's test of the current counts against the reference
//                      proportions (scipy.stats.chisquare(cur, ref_share · n_cur)),
//                      df = categories − 1.
//   WassersteinNormalized  scipy.stats.wasserstein_distance / the reference's
//                      (population) standard deviation, as Evidently.
//   MmdPermutationTest squared MMD (biased V-statistic) with an RBF kernel whose
//                      bandwidth is the median pairwise distance of the pooled
//                      sample; p = (1 + #{permuted ≥ observed}) / (1 + permutations).
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "core/status.h"

namespace closedloop {

struct DriftTest {
  double statistic = 0;
  double p_value = 1;
};

enum class KsMethod { kAuto, kExact, kAsymptotic };

// The finite values of `in`; `dropped` counts the others.
std::vector<double> FiniteOnly(std::span<const double> in, size_t* dropped = nullptr);

StatusOr<DriftTest> KolmogorovSmirnov(std::span<const double> reference,
                                      std::span<const double> current,
                                      KsMethod method = KsMethod::kAuto);
// P(D_{m,n} >= h / (m·n)) for two samples without ties (exact lattice-path count).
double KsExactSf(int64_t m, int64_t n, int64_t h);
// P(D_n >= d) for the one-sample two-sided statistic, asymptotic as described above.
double KsAsymptoticSf(double n, double d);
// Birnbaum–Tingey: P(D+_n >= d), exact.
double SmirnovSf(int64_t n, double d);

StatusOr<double> Psi(std::span<const double> reference, std::span<const double> current,
                     int bins = 10);
// Distributions given as non-negative weights (counts or shares) over the same categories.
StatusOr<double> JensenShannonDistance(std::span<const double> p, std::span<const double> q);
// Counts per category, the same categories in both. A category the reference never
// saw makes the test impossible: InvalidArgument naming it by index.
StatusOr<DriftTest> ChiSquare(std::span<const double> reference_counts,
                              std::span<const double> current_counts);
// P(X >= x) for a chi-square variable with `df` degrees of freedom.
double ChiSquareSf(double x, double df);
StatusOr<double> WassersteinNormalized(std::span<const double> reference,
                                       std::span<const double> current);

// Rows are vectors of equal dimension.
StatusOr<DriftTest> MmdPermutationTest(const std::vector<std::vector<float>>& reference,
                                       const std::vector<std::vector<float>>& current,
                                       int permutations, uint64_t seed);

// Adjusted p-values (min(1, ·)), in the input order.
std::vector<double> Bonferroni(std::span<const double> p_values);
std::vector<double> BenjaminiHochberg(std::span<const double> p_values);

// PSI < 0.1 OK, 0.1–0.25 WARNING, > 0.25 CRITICAL.
enum class Severity { kOk, kWarning, kCritical };
Severity PsiSeverity(double psi);
const char* SeverityName(Severity s);  // "OK" | "WARNING" | "CRITICAL"

// Evidently's dataset drift: the share of drifted features reaches `threshold` (0.5).
bool DatasetDrift(size_t drifted, size_t features, double threshold = 0.5);

}  // namespace closedloop
