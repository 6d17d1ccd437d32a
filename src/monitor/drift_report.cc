#include "monitor/drift_report.h"

#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>

#include "core/json_writer.h"

namespace closedloop {

namespace {

std::optional<double> ParseNumber(const std::string& s) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

// The numbers of a column side, or nullopt if some value is not a number.
std::optional<std::vector<double>> Numbers(const std::vector<std::string>& values,
                                           size_t& missing) {
  std::vector<double> out;
  for (const auto& s : values) {
    if (s.empty()) {
      ++missing;
      continue;
    }
    auto v = ParseNumber(s);
    if (!v) return std::nullopt;
    out.push_back(*v);
  }
  return out;
}

void Numeric(DriftColumnResult& r, const std::vector<double>& a, const std::vector<double>& b,
             int bins) {
  r.kind = "numeric";
  r.test = "ks";
  auto ks = KolmogorovSmirnov(a, b);
  if (!ks.ok()) {
    r.test = "none";
    r.note = ks.status().message();
    return;
  }
  r.statistic = ks->statistic;
  r.p_value = ks->p_value;
  if (auto psi = Psi(a, b, bins); psi.ok()) {
    r.psi = *psi;
    r.severity = SeverityName(PsiSeverity(*psi));
  }
  if (auto w = WassersteinNormalized(a, b); w.ok()) r.wasserstein = *w;
}

void Categorical(DriftColumnResult& r, const std::vector<std::string>& ref,
                 const std::vector<std::string>& cur) {
  r.kind = "categorical";
  std::map<std::string, std::pair<double, double>> counts;
  for (const auto& s : ref) {
    if (s.empty()) {
      ++r.reference_missing;
    } else {
      counts[s].first += 1;
    }
  }
  for (const auto& s : cur) {
    if (s.empty()) {
      ++r.current_missing;
    } else {
      counts[s].second += 1;
    }
  }
  std::vector<double> rc, cc;
  std::string unseen;
  for (const auto& [k, v] : counts) {
    rc.push_back(v.first);
    cc.push_back(v.second);
    if (v.first == 0) unseen += (unseen.empty() ? "" : ", ") + k;
  }
  auto js = JensenShannonDistance(rc, cc);
  if (!js.ok()) {
    r.test = "none";
    r.note = js.status().message();
    return;
  }
  r.js_distance = *js;
  r.severity = *js >= 0.2 ? "CRITICAL" : *js >= 0.1 ? "WARNING" : "OK";
  auto chi = ChiSquare(rc, cc);
  if (chi.ok()) {
    r.test = "chi_square";
    r.statistic = chi->statistic;
    r.p_value = chi->p_value;
  } else {
    r.test = "jensen_shannon";
    r.note =
        unseen.empty() ? chi.status().message() : "categories the reference never had: " + unseen;
    r.drifted = *js >= 0.1;
  }
}

}  // namespace

DriftReport ComputeDriftReport(const std::vector<DriftColumnInput>& columns, double alpha,
                               int psi_bins) {
  DriftReport report;
  std::vector<double> pvalues;
  std::vector<size_t> tested;
  for (const auto& c : columns) {
    DriftColumnResult r;
    r.name = c.name;
    size_t rm = 0, cm = 0;
    auto a = Numbers(c.reference, rm);
    auto b = Numbers(c.current, cm);
    if (a && b) {
      r.reference_missing = rm;
      r.current_missing = cm;
      Numeric(r, *a, *b, psi_bins);
    } else {
      Categorical(r, c.reference, c.current);
    }
    if (r.p_value) {
      pvalues.push_back(*r.p_value);
      tested.push_back(report.columns.size());
    }
    report.columns.push_back(std::move(r));
  }
  std::vector<double> adjusted = BenjaminiHochberg(pvalues);
  for (size_t i = 0; i < tested.size(); ++i) {
    DriftColumnResult& r = report.columns[tested[i]];
    r.adjusted_p_value = adjusted[i];
    r.drifted = adjusted[i] < alpha;
  }
  for (const auto& r : report.columns) report.drifted += r.drifted;
  report.drift_share = report.columns.empty() ? 0
                                              : static_cast<double>(report.drifted) /
                                                    static_cast<double>(report.columns.size());
  report.dataset_drift = DatasetDrift(report.drifted, report.columns.size());
  return report;
}

std::string DriftReportJson(const DriftReport& r) {
  JsonWriter w(1024);
  auto opt = [&](const char* key, const std::optional<double>& v) {
    w.Key(key);
    v ? w.Double(*v) : w.Null();
  };
  w.BeginObject().Key("dataset_drift").Bool(r.dataset_drift);
  w.Key("drifted_columns").Int(static_cast<int64_t>(r.drifted));
  w.Key("drift_share").Double(r.drift_share).Key("columns").BeginArray();
  for (const auto& c : r.columns) {
    w.BeginObject().Key("name").String(c.name).Key("kind").String(c.kind);
    w.Key("test").String(c.test);
    opt("statistic", c.statistic);
    opt("p_value", c.p_value);
    opt("adjusted_p_value", c.adjusted_p_value);
    opt("psi", c.psi);
    opt("wasserstein_normalized", c.wasserstein);
    opt("js_distance", c.js_distance);
    w.Key("severity").String(c.severity.empty() ? "OK" : c.severity);
    w.Key("drifted").Bool(c.drifted);
    w.Key("reference_missing").Int(static_cast<int64_t>(c.reference_missing));
    w.Key("current_missing").Int(static_cast<int64_t>(c.current_missing));
    if (!c.note.empty()) w.Key("note").String(c.note);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return std::move(w).Take();
}

std::string DriftReportTable(const DriftReport& r) {
  std::string out;
  char line[400];
  std::snprintf(line, sizeof line, "%-20s %-11s %-14s %10s %10s %10s %8s %-9s %s\n", "COLUMN",
                "KIND", "TEST", "STATISTIC", "P(ADJ)", "PSI/JS", "DRIFT", "SEVERITY", "NOTE");
  out += line;
  auto num = [](const std::optional<double>& v) {
    char b[32];
    if (!v) return std::string("-");
    std::snprintf(b, sizeof b, "%.4g", *v);
    return std::string(b);
  };
  for (const auto& c : r.columns) {
    std::snprintf(line, sizeof line, "%-20s %-11s %-14s %10s %10s %10s %8s %-9s %s\n",
                  c.name.c_str(), c.kind.c_str(), c.test.c_str(), num(c.statistic).c_str(),
                  num(c.adjusted_p_value).c_str(), num(c.psi ? c.psi : c.js_distance).c_str(),
                  c.drifted ? "yes" : "no", c.severity.empty() ? "OK" : c.severity.c_str(),
                  c.note.c_str());
    out += line;
  }
  std::snprintf(line, sizeof line, "dataset drift: %s (%zu of %zu columns drifted, share %.2f)\n",
                r.dataset_drift ? "YES" : "no", r.drifted, r.columns.size(), r.drift_share);
  out += line;
  return out;
}

}  // namespace closedloop
