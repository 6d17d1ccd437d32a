#include "monitor/drift_stats.h"

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace closedloop {

namespace {

constexpr double kPi = 3.14159265358979323846;

Status RequireData(std::span<const double> a, const char* name) {
  if (a.empty())
    return FailedPrecondition(std::string("not enough data: the ") + name + " is empty");
  for (double v : a) {
    if (!std::isfinite(v)) {
      return InvalidArgument(std::string("the ") + name + " holds NaN or infinite values");
    }
  }
  return OkStatus();
}

std::vector<double> Sorted(std::span<const double> a) {
  std::vector<double> v(a.begin(), a.end());
  std::sort(v.begin(), v.end());
  return v;
}

// Kolmogorov's limiting distribution: P(K >= lambda).
double KolmogorovSf(double lambda) {
  if (lambda <= 0) return 1;
  if (lambda < 1) {  // the theta-function form converges fast for small lambda
    double s = 0;
    for (int k = 1; k <= 50; ++k) {
      double m = 2.0 * k - 1;
      s += std::exp(-m * m * kPi * kPi / (8 * lambda * lambda));
    }
    return std::clamp(1 - std::sqrt(2 * kPi) / lambda * s, 0.0, 1.0);
  }
  double s = 0;
  for (int k = 1; k <= 100; ++k) {
    double t = std::exp(-2.0 * k * k * lambda * lambda);
    s += (k % 2 == 1 ? t : -t);
    if (t < 1e-300) break;
  }
  return std::clamp(2 * s, 0.0, 1.0);
}

// Regularized lower incomplete gamma P(a, x) by its series (x < a + 1).
double GammaPSeries(double a, double x) {
  double term = 1 / a, sum = term;
  for (int n = 1; n < 10000; ++n) {
    term *= x / (a + n);
    sum += term;
    if (std::fabs(term) < std::fabs(sum) * 1e-16) break;
  }
  return sum * std::exp(-x + a * std::log(x) - std::lgamma(a));
}

// Regularized upper incomplete gamma Q(a, x) by its continued fraction (x >= a + 1).
double GammaQFraction(double a, double x) {
  constexpr double kTiny = 1e-300;
  double b = x + 1 - a, c = 1 / kTiny, d = 1 / b, h = d;
  for (int i = 1; i < 10000; ++i) {
    double an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = b + an / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    double delta = d * c;
    h *= delta;
    if (std::fabs(delta - 1) < 1e-16) break;
  }
  return std::exp(-x + a * std::log(x) - std::lgamma(a)) * h;
}

}  // namespace

std::vector<double> FiniteOnly(std::span<const double> in, size_t* dropped) {
  std::vector<double> out;
  out.reserve(in.size());
  for (double v : in) {
    if (std::isfinite(v)) out.push_back(v);
  }
  if (dropped) *dropped = in.size() - out.size();
  return out;
}

double KsExactSf(int64_t m, int64_t n, int64_t h) {
  if (h <= 0) return 1;
  // q[j] = P(a uniformly random lattice path from (0,0) to (i,j) stayed strictly
  // inside |i·n − j·m| < h); Q(i,j) = (i·Q(i−1,j) + j·Q(i,j−1)) / (i+j).
  std::vector<double> q(static_cast<size_t>(n) + 1, 0.0);
  auto inside = [&](int64_t i, int64_t j) { return std::llabs(i * n - j * m) < h; };
  q[0] = 1;
  for (int64_t j = 1; j <= n; ++j) q[j] = inside(0, j) ? q[j - 1] : 0;
  for (int64_t i = 1; i <= m; ++i) {
    q[0] = inside(i, 0) ? q[0] : 0;
    const double di = static_cast<double>(i);
    for (int64_t j = 1; j <= n; ++j) {
      q[j] = inside(i, j) ? (di * q[j] + static_cast<double>(j) * q[j - 1]) / (di + j) : 0;
    }
  }
  return std::clamp(1 - q[static_cast<size_t>(n)], 0.0, 1.0);
}

double SmirnovSf(int64_t n, double d) {
  if (d <= 0) return 1;
  if (d >= 1) return 0;
  const double nn = static_cast<double>(n);
  const auto last = static_cast<int64_t>(std::floor(nn * (1 - d)));
  const double log_n_fact = std::lgamma(nn + 1);
  double sum = 0;
  for (int64_t j = 0; j <= last; ++j) {
    double a = 1 - d - j / nn, b = d + j / nn;
    if (a <= 0 && n - j > 0) continue;
    double log_term = log_n_fact - std::lgamma(j + 1.0) - std::lgamma(nn - j + 1) +
                      (n - j) * std::log(std::max(a, 1e-300)) + (j - 1) * std::log(b);
    sum += std::exp(log_term);
  }
  return std::clamp(d * sum, 0.0, 1.0);
}

double KsAsymptoticSf(double n, double d) {
  if (d <= 0) return 1;
  if (d >= 1) return 0;
  if (n * d * d >= 2.2) {
    return std::min(1.0, 2 * SmirnovSf(static_cast<int64_t>(std::llround(n)), d));
  }
  double sn = std::sqrt(n);
  return KolmogorovSf((sn + 0.12 + 0.11 / sn) * d);
}

StatusOr<DriftTest> KolmogorovSmirnov(std::span<const double> reference,
                                      std::span<const double> current, KsMethod method) {
  RETURN_IF_ERROR(RequireData(reference, "reference"));
  RETURN_IF_ERROR(RequireData(current, "current window"));
  std::vector<double> a = Sorted(reference), b = Sorted(current);
  const auto m = static_cast<int64_t>(a.size()), n = static_cast<int64_t>(b.size());
  // Walk both sorted samples; after all values <= x, the CDF gap is (i·n − j·m)/(m·n).
  int64_t i = 0, j = 0, h = 0;
  while (i < m || j < n) {
    double x = (j >= n || (i < m && a[i] <= b[j])) ? a[i] : b[j];
    while (i < m && a[i] <= x) ++i;
    while (j < n && b[j] <= x) ++j;
    h = std::max<int64_t>(h, std::llabs(i * n - j * m));
  }
  DriftTest t;
  t.statistic = static_cast<double>(h) / (static_cast<double>(m) * static_cast<double>(n));
  bool exact = method == KsMethod::kExact || (method == KsMethod::kAuto && std::max(m, n) <= 10000);
  if (exact && static_cast<double>(m) * static_cast<double>(n) > 4e9) exact = false;  // too long
  if (exact) {
    t.p_value = KsExactSf(m, n, h);
  } else {
    double en = static_cast<double>(m) * n / static_cast<double>(m + n);
    t.p_value = KsAsymptoticSf(std::round(en), t.statistic);
  }
  return t;
}

StatusOr<double> Psi(std::span<const double> reference, std::span<const double> current, int bins) {
  RETURN_IF_ERROR(RequireData(reference, "reference"));
  RETURN_IF_ERROR(RequireData(current, "current window"));
  if (bins < 2) return InvalidArgument("PSI needs at least 2 bins");
  std::vector<double> ref = Sorted(reference);
  // Inner edges: the reference's k/bins quantiles (linear interpolation, as numpy).
  std::vector<double> edges;
  for (int k = 1; k < bins; ++k) {
    double pos = static_cast<double>(k) / bins * static_cast<double>(ref.size() - 1);
    auto lo = static_cast<size_t>(std::floor(pos));
    size_t hi = std::min(lo + 1, ref.size() - 1);
    double e = ref[lo] + (pos - static_cast<double>(lo)) * (ref[hi] - ref[lo]);
    if (edges.empty() || e > edges.back()) edges.push_back(e);
  }
  auto shares = [&](std::span<const double> data) {
    std::vector<double> s(edges.size() + 1, 0.0);
    for (double v : data) {
      s[static_cast<size_t>(std::lower_bound(edges.begin(), edges.end(), v) - edges.begin())] += 1;
    }
    for (double& x : s) x = x == 0 ? 1e-4 : x / static_cast<double>(data.size());
    return s;
  };
  std::vector<double> r = shares(reference), c = shares(current);
  double psi = 0;
  for (size_t k = 0; k < r.size(); ++k) psi += (c[k] - r[k]) * std::log(c[k] / r[k]);
  return psi;
}

StatusOr<double> JensenShannonDistance(std::span<const double> p, std::span<const double> q) {
  if (p.size() != q.size()) return InvalidArgument("the distributions have different categories");
  double sp = 0, sq = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    if (!(p[i] >= 0) || !(q[i] >= 0) || !std::isfinite(p[i]) || !std::isfinite(q[i])) {
      return InvalidArgument("weights must be finite and non-negative");
    }
    sp += p[i];
    sq += q[i];
  }
  if (sp == 0 || sq == 0) return FailedPrecondition("not enough data: a distribution is empty");
  double js = 0;
  for (size_t i = 0; i < p.size(); ++i) {
    double a = p[i] / sp, b = q[i] / sq, m = (a + b) / 2;
    if (a > 0) js += 0.5 * a * std::log2(a / m);
    if (b > 0) js += 0.5 * b * std::log2(b / m);
  }
  return std::sqrt(std::max(0.0, js));
}

double ChiSquareSf(double x, double df) {
  if (x <= 0) return 1;
  double a = df / 2, y = x / 2;
  return std::clamp(y < a + 1 ? 1 - GammaPSeries(a, y) : GammaQFraction(a, y), 0.0, 1.0);
}

StatusOr<DriftTest> ChiSquare(std::span<const double> reference_counts,
                              std::span<const double> current_counts) {
  if (reference_counts.size() != current_counts.size()) {
    return InvalidArgument("the reference and the current window have different categories");
  }
  double nr = 0, nc = 0;
  for (size_t i = 0; i < reference_counts.size(); ++i) {
    if (!(reference_counts[i] >= 0) || !(current_counts[i] >= 0)) {
      return InvalidArgument("counts must be non-negative");
    }
    nr += reference_counts[i];
    nc += current_counts[i];
  }
  if (nr == 0 || nc == 0) return FailedPrecondition("not enough data: no counts");
  DriftTest t;
  t.statistic = 0;
  int categories = 0;
  for (size_t i = 0; i < reference_counts.size(); ++i) {
    if (reference_counts[i] == 0) {
      if (current_counts[i] > 0) {
        return InvalidArgument("category " + std::to_string(i) +
                               " never occurs in the reference: its expected count is 0");
      }
      continue;
    }
    double expected = reference_counts[i] / nr * nc;
    t.statistic += (current_counts[i] - expected) * (current_counts[i] - expected) / expected;
    ++categories;
  }
  if (categories < 2) {
    return FailedPrecondition("not enough data: the reference has a single category");
  }
  t.p_value = ChiSquareSf(t.statistic, categories - 1);
  return t;
}

StatusOr<double> WassersteinNormalized(std::span<const double> reference,
                                       std::span<const double> current) {
  RETURN_IF_ERROR(RequireData(reference, "reference"));
  RETURN_IF_ERROR(RequireData(current, "current window"));
  std::vector<double> a = Sorted(reference), b = Sorted(current);
  double mean = std::accumulate(a.begin(), a.end(), 0.0) / static_cast<double>(a.size());
  double var = 0;
  for (double v : a) var += (v - mean) * (v - mean);
  double sd = std::sqrt(var / static_cast<double>(a.size()));
  if (sd == 0) return FailedPrecondition("not enough data: the reference is constant");
  // ∫|F_a − F_b| dx over the merged support.
  size_t i = 0, j = 0;
  double area = 0, prev = std::min(a[0], b[0]);
  while (i < a.size() || j < b.size()) {
    double x = (j >= b.size() || (i < a.size() && a[i] <= b[j])) ? a[i] : b[j];
    double fa = static_cast<double>(i) / a.size(), fb = static_cast<double>(j) / b.size();
    area += std::fabs(fa - fb) * (x - prev);
    prev = x;
    while (i < a.size() && a[i] <= x) ++i;
    while (j < b.size() && b[j] <= x) ++j;
  }
  return area / sd;
}

StatusOr<DriftTest> MmdPermutationTest(const std::vector<std::vector<float>>& reference,
                                       const std::vector<std::vector<float>>& current,
                                       int permutations, uint64_t seed) {
  if (reference.size() < 2 || current.size() < 2) {
    return FailedPrecondition("not enough data: MMD needs at least 2 vectors on each side");
  }
  const size_t dim = reference[0].size();
  const size_t n1 = reference.size(), n = n1 + current.size();
  Eigen::MatrixXd z(n, dim);
  for (size_t r = 0; r < n; ++r) {
    const auto& row = r < n1 ? reference[r] : current[r - n1];
    if (row.size() != dim) return InvalidArgument("vectors have different dimensions");
    for (size_t c = 0; c < dim; ++c) {
      if (!std::isfinite(row[c])) return InvalidArgument("a vector holds NaN or infinite values");
      z(static_cast<Eigen::Index>(r), static_cast<Eigen::Index>(c)) = row[c];
    }
  }
  Eigen::VectorXd norms = z.rowwise().squaredNorm();
  Eigen::MatrixXd d2 = (-2.0 * z * z.transpose()).colwise() + norms;
  d2.rowwise() += norms.transpose();
  std::vector<double> dists;
  dists.reserve(n * (n - 1) / 2);
  for (Eigen::Index r = 0; r < static_cast<Eigen::Index>(n); ++r) {
    for (Eigen::Index c = r + 1; c < static_cast<Eigen::Index>(n); ++c) {
      dists.push_back(std::sqrt(std::max(0.0, d2(r, c))));
    }
  }
  std::nth_element(dists.begin(), dists.begin() + static_cast<long>(dists.size() / 2), dists.end());
  double sigma = dists[dists.size() / 2];
  if (sigma == 0) sigma = 1;  // all points equal: no drift to see
  Eigen::MatrixXd k = (-d2 / (2 * sigma * sigma)).array().exp().matrix();
  // MMD² (biased) for a labelling of the pooled rows: 1 = reference.
  auto mmd2 = [&](const std::vector<uint8_t>& is_ref) {
    double sxx = 0, syy = 0, sxy = 0;
    for (size_t r = 0; r < n; ++r) {
      const double* col = k.data() + r * n;  // symmetric: column r is row r
      double to_ref = 0, to_cur = 0;
      for (size_t c = 0; c < n; ++c) (is_ref[c] ? to_ref : to_cur) += col[c];
      if (is_ref[r]) {
        sxx += to_ref;
        sxy += to_cur;
      } else {
        syy += to_cur;
      }
    }
    const double a = static_cast<double>(n1), b = static_cast<double>(n - n1);
    return sxx / (a * a) + syy / (b * b) - 2 * sxy / (a * b);
  };
  std::vector<uint8_t> labels(n, 0);
  std::fill(labels.begin(), labels.begin() + static_cast<long>(n1), 1);
  DriftTest t;
  t.statistic = mmd2(labels);
  std::mt19937_64 rng(seed);
  int at_least = 0;
  for (int p = 0; p < permutations; ++p) {
    for (size_t i = n - 1; i > 0; --i) {  // Fisher–Yates
      std::uniform_int_distribution<size_t> pick(0, i);
      std::swap(labels[i], labels[pick(rng)]);
    }
    if (mmd2(labels) >= t.statistic) ++at_least;
  }
  t.p_value = (1.0 + at_least) / (1.0 + permutations);
  return t;
}

std::vector<double> Bonferroni(std::span<const double> p_values) {
  std::vector<double> out;
  for (double p : p_values) out.push_back(std::min(1.0, p * static_cast<double>(p_values.size())));
  return out;
}

std::vector<double> BenjaminiHochberg(std::span<const double> p_values) {
  const size_t m = p_values.size();
  std::vector<size_t> order(m);
  std::iota(order.begin(), order.end(), 0);
  std::sort(order.begin(), order.end(),
            [&](size_t a, size_t b) { return p_values[a] < p_values[b]; });
  std::vector<double> out(m);
  double running = 1;
  for (size_t r = m; r-- > 0;) {  // from the largest p down: cumulative minimum
    double adj = p_values[order[r]] * static_cast<double>(m) / static_cast<double>(r + 1);
    running = std::min(running, adj);
    out[order[r]] = std::min(1.0, running);
  }
  return out;
}

Severity PsiSeverity(double psi) {
  if (psi > 0.25) return Severity::kCritical;
  if (psi >= 0.1) return Severity::kWarning;
  return Severity::kOk;
}

const char* SeverityName(Severity s) {
  switch (s) {
    case Severity::kOk:
      return "OK";
    case Severity::kWarning:
      return "WARNING";
    case Severity::kCritical:
      return "CRITICAL";
  }
  return "OK";
}

bool DatasetDrift(size_t drifted, size_t features, double threshold) {
  return features > 0 && static_cast<double>(drifted) / static_cast<double>(features) >= threshold;
}

}  // namespace closedloop
