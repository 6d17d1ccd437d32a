#include "tracking/model_card.h"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <sstream>
#include <vector>

#include <simdjson.h>

namespace closedloop {

namespace {

std::string Fixed(double v, int digits = 4) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

std::string Find(const KeyValues& kv, const std::string& key) {
  for (const auto& [k, v] : kv) {
    if (k == key) return v;
  }
  return "";
}

// Reads a field when present and of the right type; leaves `out` alone otherwise.
template <typename Json, typename T>
void Read(const Json& e, std::string_view key, T& out) {
  T v{};
  if (e[key].get(v) == simdjson::SUCCESS) out = v;
}

struct ClassRow {
  std::string label;
  double precision, recall, f1;
  uint64_t support;
};

}  // namespace

std::string RenderModelCard(const ModelCardInput& in) {
  std::ostringstream md;
  md << "# Model card: " << in.name << " version " << in.version << "\n\n";
  md << "## Intended use\n\n";
  if (!in.description.empty()) {
    md << in.description << "\n\n";
  }
  if (in.flavor == "fasttext") {
    md << "A " << in.flavor
       << " text classifier: it assigns one of the labels below to a short text and returns a "
          "calibrated confidence. Use the confidence to decide when to hand the case to a "
          "person instead of acting on the label.\n\n";
  } else if (in.flavor == "xgboost") {
    md << "An XGBoost classifier over the tabular features listed in its config; it returns "
          "class probabilities and, on request, per-feature contributions (SHAP).\n\n";
  } else {
    md << "A " << in.flavor << " model served by closedloop.\n\n";
  }
  md << "Not intended for inputs unlike its training data (other languages, other domains), "
        "nor for decisions without a person able to review them.\n\n";

  md << "## Data and lineage\n\n";
  md << "| | |\n|---|---|\n";
  md << "| registered | " << FormatUtc(in.created_ms) << " |\n";
  md << "| source | `" << in.source << "` |\n";
  md << "| flavor | " << in.flavor << " |\n";
  md << "| model file SHA-256 | `" << in.model_sha256 << "` |\n";
  md << "| model file size | " << in.model_size << " bytes |\n";
  if (in.run) {
    const Run& r = *in.run;
    md << "| training run | `" << r.info.run_id << "` (" << r.info.run_name << ") |\n";
    for (const char* key : {"data.sha256", "data.rows", "seed", "closedloop.version",
                            "closedloop.git_commit", "library.fasttext", "library.xgboost"}) {
      std::string v = Find(r.tags, key);
      if (!v.empty()) md << "| " << key << " | `" << v << "` |\n";
    }
    md << "\nTraining parameters:\n\n";
    for (const auto& [k, v] : r.params) {
      if (!v.empty()) md << "- " << k << ": `" << v << "`\n";
    }
  } else {
    md << "| training run | not recorded |\n";
  }
  md << "\n## Metrics\n\n";
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  std::vector<ClassRow> weak;
  bool any = false;
  if (!parser.parse(in.metrics_json).get(doc)) {
    for (const char* split : {"test", "validation"}) {
      simdjson::dom::object rep;
      if (doc[split].get(rep)) continue;
      any = true;
      auto num = [&](const char* k) {
        double v = 0;
        return rep[k].get(v) ? std::string("n/a") : Fixed(v);
      };
      uint64_t rows = 0;
      Read(rep, "rows", rows);
      md << "### " << split << " (" << rows << " rows)\n\n";
      md << "| accuracy | macro-F1 | weighted-F1 | log-loss | ROC-AUC | ECE (15 bins) |\n";
      md << "|---|---|---|---|---|---|\n";
      md << "| " << num("accuracy") << " | " << num("macro_f1") << " | " << num("weighted_f1")
         << " | " << num("log_loss") << " | " << num("roc_auc") << " | " << num("ece") << " |\n\n";
      simdjson::dom::array classes;
      if (rep["per_class"].get(classes)) continue;
      std::vector<ClassRow> rows_v;
      for (auto c : classes) {
        ClassRow row{};
        std::string_view label;
        Read(c, "label", label);
        row.label = std::string(label);
        Read(c, "precision", row.precision);
        Read(c, "recall", row.recall);
        Read(c, "f1", row.f1);
        Read(c, "support", row.support);
        rows_v.push_back(row);
      }
      md << "Per class:\n\n| label | precision | recall | F1 | support |\n|---|---|---|---|---|\n";
      for (const auto& c : rows_v) {
        md << "| " << c.label << " | " << Fixed(c.precision, 3) << " | " << Fixed(c.recall, 3)
           << " | " << Fixed(c.f1, 3) << " | " << c.support << " |\n";
      }
      md << "\n";
      if (weak.empty()) {
        for (const auto& c : rows_v) {
          if (c.support > 0 && c.f1 < 0.75) weak.push_back(c);
        }
        std::sort(weak.begin(), weak.end(),
                  [](const ClassRow& a, const ClassRow& b) { return a.f1 < b.f1; });
      }
    }
  }
  if (!any) md << "No evaluation was recorded with this version.\n\n";

  md << "## Calibration\n\n";
  if (in.flavor == "fasttext") {
    md << "Softmax temperature " << Fixed(in.temperature, 3)
       << ", fitted on the validation data by minimizing the negative log-likelihood "
          "(temperature scaling); the server applies it to every prediction. The ECE above is "
          "measured with it.";
    if (in.run) {
      for (const auto& m : in.run->metrics) {
        if (m.key == "ece_before_calibration") {
          md << " Before calibration the validation ECE was " << Fixed(m.value) << ".";
        }
      }
    }
    md << "\n\n";
  } else {
    md << "Probabilities are the model's own (no temperature); see the ECE above.\n\n";
  }

  md << "## Known limitations\n\n";
  if (in.flavor == "fasttext") {
    md << "- Bag of words, word bigrams and character n-grams: negation and word order beyond "
          "two words are only partly captured.\n"
          "- Trained on English text; other languages get arbitrary labels.\n"
          "- Every input gets one of the known labels: out-of-scope inquiries are not "
          "detected, only (usually) given a lower confidence.\n";
  } else if (in.flavor == "xgboost") {
    md << "- Categories not seen in training are treated as missing values.\n"
          "- Feature distributions that drift away from training reduce accuracy silently; "
          "watch the drift reports.\n";
  }
  if (!weak.empty()) {
    md << "- Weak classes (F1 below 0.75):";
    size_t shown = 0;
    for (const auto& c : weak) {
      if (shown++ == 10) {
        md << " and " << weak.size() - 10 << " more";
        break;
      }
      md << (shown > 1 ? ", " : " ") << c.label << " (" << Fixed(c.f1, 2) << ")";
    }
    md << ".\n";
  }
  return md.str();
}

}  // namespace closedloop
