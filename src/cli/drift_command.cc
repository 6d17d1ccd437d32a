#include <iostream>
#include <set>
#include <sstream>

#include "cli/commands.h"
#include "learn/training_data.h"
#include "monitor/drift_report.h"

namespace closedloop {

namespace {

struct DriftFlags {
  std::string ref, cur, format = "auto", columns;
  bool json = false;
  double alpha = 0.05;
  int bins = 10;
};

int RunDrift(const DriftFlags& f) {
  auto format = ParseTableFormat(f.format);
  if (!format.ok()) {
    std::cerr << "closedloop drift: --format: " << format.status().message() << "\n";
    return 2;
  }
  auto ref = ReadTables({f.ref}, *format);
  auto cur = ref.ok() ? ReadTables({f.cur}, *format) : StatusOr<CsvTable>(ref.status());
  if (!cur.ok()) {
    std::cerr << "closedloop drift: " << cur.status().message() << "\n";
    return 2;
  }
  std::vector<std::string> names;
  if (!f.columns.empty()) {
    std::stringstream ss(f.columns);
    for (std::string c; std::getline(ss, c, ',');) {
      if (!c.empty()) names.push_back(c);
    }
  } else {
    std::set<std::string> in_ref(ref->header.begin(), ref->header.end());
    std::set<std::string> in_cur(cur->header.begin(), cur->header.end());
    std::string only_ref, only_cur;
    for (const auto& c : in_ref) {
      if (!in_cur.count(c)) only_ref += (only_ref.empty() ? "" : ", ") + c;
    }
    for (const auto& c : in_cur) {
      if (!in_ref.count(c)) only_cur += (only_cur.empty() ? "" : ", ") + c;
    }
    if (!only_ref.empty() || !only_cur.empty()) {
      std::cerr << "closedloop drift: the tables have different columns"
                << (only_ref.empty() ? "" : "; only in --ref: " + only_ref)
                << (only_cur.empty() ? "" : "; only in --cur: " + only_cur)
                << " (choose with --columns)\n";
      return 2;
    }
    names = ref->header;
  }
  std::vector<DriftColumnInput> inputs;
  for (const auto& name : names) {
    auto rc = ref->Column(name);
    auto cc = rc.ok() ? cur->Column(name) : StatusOr<size_t>(rc.status());
    if (!cc.ok()) {
      std::cerr << "closedloop drift: --columns: " << cc.status().message() << "\n";
      return 2;
    }
    DriftColumnInput in;
    in.name = name;
    for (const auto& row : ref->rows) in.reference.push_back(row[*rc]);
    for (const auto& row : cur->rows) in.current.push_back(row[*cc]);
    inputs.push_back(std::move(in));
  }
  DriftReport report = ComputeDriftReport(inputs, f.alpha, f.bins);
  std::cout << (f.json ? DriftReportJson(report) + "\n" : DriftReportTable(report));
  return 0;
}

}  // namespace

void AddDriftCommand(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<DriftFlags>();
  CLI::App* cmd = app.add_subcommand(
      "drift", "Offline drift report of a current table against a reference table, per column");
  cmd->add_option("--ref", f->ref, "Reference table (CSV, TSV or JSONL)")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--cur", f->cur, "Current table, the same columns")
      ->required()
      ->check(CLI::ExistingFile);
  cmd->add_option("--columns", f->columns, "Comma-separated columns (default: all)");
  cmd->add_option("--format", f->format, "auto|csv|tsv|jsonl")->capture_default_str();
  cmd->add_option("--alpha", f->alpha, "Level of the tests after Benjamini-Hochberg")
      ->check(CLI::Range(1e-9, 0.5))
      ->capture_default_str();
  cmd->add_option("--bins", f->bins, "PSI bins (reference quantiles)")
      ->check(CLI::Range(2, 1000))
      ->capture_default_str();
  cmd->add_flag("--json", f->json, "JSON instead of a table");
  cmd->callback([f, &exit_code] { exit_code = RunDrift(*f); });
}

}  // namespace closedloop
