// `closedloop export onnx MODEL@VERSION --output DIR`: the trained head as ONNX
// (serving/onnx_export.h) in a model version directory the ONNX backend serves,
// checked like `closedloop onnx check`, and with --verify FILE compared with the
// native model on every text of FILE (learn/onnx_agreement.h). The directory is
// published only when the check passes and the outputs agree within --tolerance.
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>

#include "cli/commands.h"
#include "learn/onnx_agreement.h"
#include "learn/staged_dir.h"
#include "learn/table_reader.h"
#include "serving/fasttext_backend.h"
#include "serving/mlp_backend.h"
#include "serving/model_config.h"
#include "serving/onnx_backend.h"
#include "serving/onnx_check.h"
#include "serving/onnx_export.h"

namespace closedloop {

namespace {

namespace fs = std::filesystem;

struct ExportFlags {
  std::string model, models_dir = "models", output, verify, format = "auto", text_col = "text",
                     label_col = "label";
  bool int8 = false, force = false;
  double tolerance = 1e-5;
};

// A version directory, or NAME@VERSION under the models directory.
StatusOr<std::string> ResolveModelDir(const std::string& model, const std::string& models_dir) {
  std::error_code ec;
  if (fs::is_directory(model, ec)) return model;
  const auto at = model.find('@');
  if (at == std::string::npos) {
    return NotFound("'" + model + "' is neither a model version directory nor NAME@VERSION");
  }
  const std::string dir = models_dir + "/" + model.substr(0, at) + "/" + model.substr(at + 1);
  if (!fs::is_directory(dir, ec)) return NotFound("no model version directory '" + dir + "'");
  return dir;
}

// Label-ordered probabilities from a backend's top-k answer.
TextVector LabelOrderedProbabilities(const Backend& b) {
  return [&b](std::string_view text) -> StatusOr<std::vector<float>> {
    const int n = static_cast<int>(b.labels().size());
    ASSIGN_OR_RETURN(LabelScores scores, b.PredictText(text, n));
    std::vector<float> p(static_cast<size_t>(n), 0.0f);
    for (const ScoredLabel& s : scores) p[static_cast<size_t>(s.index)] = s.p;
    return p;
  };
}

double Accuracy(const TextVector& probs, const std::vector<std::string>& texts,
                const std::vector<std::string>& gold, const std::vector<std::string>& labels) {
  int64_t right = 0, rows = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    auto p = probs(texts[i]);
    if (!p.ok()) continue;
    ++rows;
    if (labels[static_cast<size_t>(std::max_element(p->begin(), p->end()) - p->begin())] ==
        gold[i]) {
      ++right;
    }
  }
  return rows == 0 ? 0.0 : static_cast<double>(right) / static_cast<double>(rows);
}

// The whole export; prints "key: value" lines. Returns the exit code.
int RunExport(const ExportFlags& f) {
  auto fail = [](const Status& s) {
    std::cerr << "closedloop export onnx: " << s.message() << "\n";
    return 1;
  };
  auto dir = ResolveModelDir(f.model, f.models_dir);
  if (!dir.ok()) return fail(dir.status());
  auto config = LoadModelConfig(*dir + "/config.toml");
  if (!config.ok()) return fail(config.status());
  if (config->flavor != "mlp" && config->flavor != "fasttext") {
    return fail(InvalidArgument("flavor '" + config->flavor +
                                "' cannot be exported to ONNX (mlp and fasttext can)"));
  }
  if (f.int8 && config->flavor != "mlp") {
    return fail(InvalidArgument("--int8 applies to mlp models only"));
  }
  auto staged = StagedDir::Create(f.output, f.force);
  if (!staged.ok()) return fail(staged.status());
  const std::string onnx_path = (staged->path() / "model.onnx").string();

  std::unique_ptr<Backend> native, before;  // before: the float model of an --int8 export
  TextVector features;
  StatusOr<OnnxExportInfo> info = Internal("not exported");
  if (config->flavor == "mlp") {
    auto model = MlpModel::Load(*dir + "/model.mlp");
    if (!model.ok()) return fail(model.status());
    if (f.int8 && !(*model)->members().front().quantized()) {
      auto q = (*model)->Quantized();
      auto float_backend =
          MlpBackend::FromModel(std::move(*model), config->labels, config->temperature);
      if (!float_backend.ok()) return fail(float_backend.status());
      before = std::move(*float_backend);
      *model = std::move(q);
    }
    info = ExportMlpToOnnx(**model, config->temperature, onnx_path);
    auto b = MlpBackend::FromModel(std::move(*model), config->labels, config->temperature);
    if (!b.ok()) return fail(b.status());
    const MlpBackend* mlp = b->get();
    features = [mlp](std::string_view text) -> StatusOr<std::vector<float>> {
      const TextFeaturizer& fz = mlp->model().featurizer();
      std::vector<float> x(fz.dimension(), 0.0f);
      const SparseVector v = fz.Featurize(text);
      for (size_t i = 0; i < v.index.size(); ++i) x[static_cast<size_t>(v.index[i])] = v.value[i];
      return x;
    };
    native = std::move(*b);
  } else {
    std::string file = *dir + "/model.bin";
    std::error_code ec;
    if (!fs::exists(file, ec)) file = *dir + "/model.ftz";
    auto b = FastTextBackend::Load(file, config->temperature);
    if (!b.ok()) return fail(b.status());
    auto w = (*b)->OutputWeights();
    if (!w.ok()) return fail(w.status());
    LinearHead head{static_cast<int>((*b)->labels().size()), (*b)->dimension(), std::move(*w)};
    info = ExportLinearToOnnx(head, config->temperature, onnx_path);
    const FastTextBackend* ft = b->get();
    features = [ft](std::string_view text) { return ft->SentenceVector(text); };
    native = std::move(*b);
  }
  if (!info.ok()) return fail(info.status());

  ModelConfig out_config;
  out_config.flavor = "onnx";
  out_config.top_k = config->top_k;
  out_config.labels = native->labels();
  std::ofstream(staged->path() / "config.toml") << RenderModelConfig(out_config);
  std::cout << "source: " << *dir << "\ninput: " << info->input << " [N, " << info->width
            << "]\nwidth: " << info->width << "\nlabels: " << info->labels
            << "\nint8: " << (info->int8 ? 1 : 0) << "\nbytes: " << info->bytes << "\n";

  OnnxCheckReport check = CheckOnnxModel(onnx_path);
  if (!check.supported) {
    std::cout << FormatOnnxCheck(onnx_path, check);
    return fail(Internal("the exported model does not pass the ONNX check"));
  }
  std::cout << "onnx_check: ok\n";

  if (!f.verify.empty()) {
    auto format = ParseTableFormat(f.format);
    auto table = format.ok() ? ReadTable(f.verify, *format) : StatusOr<CsvTable>(format.status());
    if (!table.ok()) return fail(table.status());
    auto text_col = table->Column(f.text_col);
    if (!text_col.ok()) return fail(text_col.status().WithContext(f.verify));
    auto label_col = table->Column(f.label_col);  // optional: accuracy when present
    std::vector<std::string> texts, gold;
    for (const auto& row : table->rows) {
      texts.push_back(row[*text_col]);
      if (label_col.ok()) gold.push_back(row[*label_col]);
    }
    auto onnx = OnnxBackend::Load(onnx_path, native->labels(), 1);
    if (!onnx.ok()) return fail(onnx.status());
    auto report = CompareOnnxWithNative(LabelOrderedProbabilities(*native), features, **onnx, texts,
                                        label_col.ok() ? &gold : nullptr, native->labels());
    if (!report.ok()) return fail(report.status());
    std::cout << "rows: " << report->rows << "\nskipped: " << report->skipped << std::scientific
              << std::setprecision(3) << "\nmax_abs_diff: " << report->max_abs_diff
              << "\nmean_abs_diff: " << report->mean_abs_diff << std::fixed << std::setprecision(4)
              << "\ntop_label_agreement: " << report->top_label_agreement << "\n";
    if (report->native_accuracy) {
      if (before) {
        std::cout << "accuracy_before_int8: "
                  << Accuracy(LabelOrderedProbabilities(*before), texts, gold, native->labels())
                  << "\n";
      }
      std::cout << "native_accuracy: " << *report->native_accuracy
                << "\nonnx_accuracy: " << *report->onnx_accuracy << "\n";
    }
    if (!(report->max_abs_diff <= f.tolerance)) {
      return fail(Internal("the ONNX outputs differ from the native model's by more than " +
                           std::to_string(f.tolerance) + "; nothing written"));
    }
  }
  Status published = staged->Publish();
  if (!published.ok()) return fail(published);
  std::cout << "written: " << f.output << "\n";
  return 0;
}

}  // namespace

void AddExportCommand(CLI::App& app, int& exit_code) {
  auto f = std::make_shared<ExportFlags>();
  CLI::App* exp = app.add_subcommand("export", "Export a trained model to another format");
  exp->require_subcommand(1);
  CLI::App* onnx = exp->add_subcommand(
      "onnx",
      "Write an mlp or fastText model's head as ONNX into a model version directory the ONNX "
      "backend serves");
  onnx->add_option("MODEL", f->model, "NAME@VERSION (under --models) or a version directory")
      ->required();
  onnx->add_option("--models", f->models_dir, "Model repository")->capture_default_str();
  onnx->add_option("--output", f->output, "Directory to write (model.onnx, config.toml)")
      ->required();
  onnx->add_flag("--int8", f->int8, "Store the MLP's first layer as INT8 weights");
  onnx->add_flag("--force", f->force, "Replace --output if it exists");
  onnx->add_option("--verify", f->verify,
                   "Compare the ONNX outputs with the native model's on this file's texts");
  onnx->add_option("--format", f->format, "Format of --verify: csv, tsv, jsonl or auto")
      ->capture_default_str();
  onnx->add_option("--text-col", f->text_col, "Text column of --verify")->capture_default_str();
  onnx->add_option("--label-col", f->label_col, "Label column of --verify (accuracy when present)")
      ->capture_default_str();
  onnx->add_option("--tolerance", f->tolerance,
                   "Largest allowed difference of any probability under --verify")
      ->capture_default_str();
  onnx->callback([f, &exit_code] { exit_code = RunExport(*f); });
}

}  // namespace closedloop
