#include "monitor/drift_report.h"

#include <gtest/gtest.h>

#include <random>

namespace closedloop {
namespace {

std::vector<std::string> Numbers(size_t n, double mean, uint32_t seed) {
  std::mt19937 rng(seed);
  std::normal_distribution<double> d(mean, 1);
  std::vector<std::string> out;
  for (size_t i = 0; i < n; ++i) out.push_back(std::to_string(d(rng)));
  return out;
}

TEST(DriftReportTest, NumericAndCategoricalColumnsWithCorrectedTests) {
  std::vector<DriftColumnInput> in;
  in.push_back({"shifted", Numbers(800, 0, 1), Numbers(600, 0.5, 2)});
  in.push_back({"stable", Numbers(800, 0, 3), Numbers(600, 0, 4)});
  std::vector<std::string> ref_plan, cur_plan;
  for (int i = 0; i < 300; ++i) ref_plan.push_back(i % 3 == 0 ? "pro" : "free");
  for (int i = 0; i < 300; ++i) cur_plan.push_back(i % 3 == 0 ? "pro" : "free");
  cur_plan.push_back("");  // missing
  in.push_back({"plan", ref_plan, cur_plan});
  std::vector<std::string> new_cat = cur_plan;
  for (int i = 0; i < 100; ++i) new_cat.push_back("enterprise");
  in.push_back({"plan_with_new", ref_plan, new_cat});
  DriftReport r = ComputeDriftReport(in);
  ASSERT_EQ(r.columns.size(), 4u);
  EXPECT_EQ(r.columns[0].kind, "numeric");
  EXPECT_TRUE(r.columns[0].drifted);
  EXPECT_EQ(r.columns[0].severity, "CRITICAL");  // PSI of a half-sd shift > 0.25
  EXPECT_FALSE(r.columns[1].drifted);
  EXPECT_EQ(r.columns[2].kind, "categorical");
  EXPECT_EQ(r.columns[2].test, "chi_square");
  EXPECT_FALSE(r.columns[2].drifted);
  EXPECT_EQ(r.columns[2].current_missing, 1u);
  EXPECT_EQ(r.columns[3].test, "jensen_shannon");
  EXPECT_NE(r.columns[3].note.find("enterprise"), std::string::npos);
  EXPECT_TRUE(r.columns[3].drifted);
  EXPECT_EQ(r.drifted, 2u);
  EXPECT_TRUE(r.dataset_drift);  // 2 of 4 = 0.5
  // The adjusted p-values are Benjamini-Hochberg over the tested columns.
  EXPECT_GE(*r.columns[1].adjusted_p_value, *r.columns[1].p_value);
  EXPECT_NE(DriftReportJson(r).find(R"("dataset_drift":true)"), std::string::npos);
  EXPECT_NE(DriftReportTable(r).find("dataset drift: YES (2 of 4 columns drifted"),
            std::string::npos);
}

TEST(DriftReportTest, EmptyAndConstantColumnsAreNotEnoughDataNotFailures) {
  std::vector<DriftColumnInput> in;
  in.push_back({"empty", {}, {"1", "2"}});
  in.push_back({"constant", {"5", "5", "5"}, {"5", "5"}});
  in.push_back({"one_category", {"a", "a"}, {"a", "a", "a"}});
  DriftReport r = ComputeDriftReport(in);
  EXPECT_EQ(r.columns[0].test, "none");
  EXPECT_NE(r.columns[0].note.find("not enough data"), std::string::npos);
  EXPECT_FALSE(r.columns[0].drifted);
  EXPECT_FALSE(r.columns[1].drifted);  // identical constants: D = 0
  EXPECT_EQ(r.columns[2].test, "jensen_shannon");
  EXPECT_NE(r.columns[2].note.find("single category"), std::string::npos);
  EXPECT_FALSE(r.columns[2].drifted);
  EXPECT_FALSE(r.dataset_drift);
}

}  // namespace
}  // namespace closedloop
