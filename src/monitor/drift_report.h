// A drift report over named columns of a reference and a current table (the
// offline `closedloop drift`; the live windows reuse it). Per column:
//   numeric (every non-empty value parses as a finite number in both tables):
//     KS test (drifted when the Benjamini–Hochberg-adjusted p < alpha), PSI with its
//     severity, normalized Wasserstein distance;
//   categorical: chi-square test of the current counts against the reference
//     shares (drifted when the adjusted p < alpha), Jensen–Shannon distance; when
//     the current window holds categories the reference never had, chi-square is
//     impossible and JS distance >= 0.1 decides.
// Dataset drift: the share of drifted columns reaches 0.5 (as Evidently). Empty
// values are missing (counted); a column with no values on a side is reported
// as "not enough data" rather than failing the report. Pure; thread-safe.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "monitor/drift_stats.h"

namespace closedloop {

struct DriftColumnInput {
  std::string name;
  std::vector<std::string> reference, current;
};

struct DriftColumnResult {
  std::string name;
  std::string kind;  // numeric | categorical
  std::string test;  // ks | chi_square | jensen_shannon | none
  std::optional<double> statistic, p_value, adjusted_p_value;
  std::optional<double> psi, wasserstein, js_distance;
  std::string severity;  // OK | WARNING | CRITICAL (PSI bands; JS for categories)
  bool drifted = false;
  std::string note;  // e.g. "not enough data: ..."
  size_t reference_missing = 0, current_missing = 0;
};

struct DriftReport {
  std::vector<DriftColumnResult> columns;
  size_t drifted = 0;
  double drift_share = 0;
  bool dataset_drift = false;
};

DriftReport ComputeDriftReport(const std::vector<DriftColumnInput>& columns, double alpha = 0.05,
                               int psi_bins = 10);
std::string DriftReportJson(const DriftReport& r);
std::string DriftReportTable(const DriftReport& r);

}  // namespace closedloop
