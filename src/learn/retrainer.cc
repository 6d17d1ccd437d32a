#include "learn/retrainer.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>

#include "core/json_writer.h"
#include "core/logging.h"
#include "core/ulid.h"
#include "learn/evaluation.h"
#include "learn/feedback_dataset.h"
#include "learn/register_training.h"
#include "learn/tabular_feedback_rows.h"
#include "learn/tabular_trainer.h"
#include "learn/text_trainer.h"
#include "learn/training_data.h"
#include "learn/training_run_log.h"
#include "serving/model_config.h"
#include "serving/traffic_split.h"

namespace closedloop {

namespace {

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  size_t at = 0;
  while (at <= s.size() && !s.empty()) {
    size_t comma = s.find(',', at);
    if (comma == std::string::npos) comma = s.size();
    if (comma > at) out.push_back(s.substr(at, comma - at));
    at = comma + 1;
  }
  return out;
}

std::string Line(const std::string& text, const std::string& label) {
  JsonWriter w(text.size() + label.size() + 32);
  w.BeginObject().Key("text").String(text).Key("label").String(label).EndObject();
  return std::move(w).Take();
}

// Copies the text/label columns of tables into a JSONL file; returns the rows written.
StatusOr<size_t> WriteJsonl(const CsvTable& table, const std::string& text_col,
                            const std::string& label_col, std::ofstream& out) {
  ASSIGN_OR_RETURN(size_t t, table.Column(text_col));
  ASSIGN_OR_RETURN(size_t l, table.Column(label_col));
  size_t n = 0;
  for (const auto& row : table.rows) {
    if (row[t].empty() || row[l].empty()) continue;
    out << Line(row[t], row[l]) << "\n";
    ++n;
  }
  return n;
}

int ParamInt(const std::map<std::string, std::string>& p, const char* key, int fallback) {
  auto it = p.find(key);
  if (it == p.end()) return fallback;
  try {
    return std::stoi(it->second);
  } catch (...) {
    return fallback;
  }
}

double ParamDouble(const std::map<std::string, std::string>& p, const char* key, double fallback) {
  auto it = p.find(key);
  if (it == p.end()) return fallback;
  try {
    return std::stod(it->second);
  } catch (...) {
    return fallback;
  }
}

std::string Percent(double x) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", x);
  return buf;
}

// The champion's recorded XGBoost recipe (TabularRunRecord's params) as options;
// the columns of `header` that were not features are ignored.
TabularTrainOptions TabularRecipe(std::map<std::string, std::string>& params,
                                  const std::vector<std::string>& header,
                                  const std::string& label_col) {
  TabularTrainOptions t;
  t.label_col = label_col;
  const std::vector<std::string> features = SplitList(params["features"]);
  for (const auto& c : header) {
    if (c != label_col && std::find(features.begin(), features.end(), c) == features.end()) {
      t.ignore_cols.push_back(c);
    }
  }
  t.categorical_cols = SplitList(params["categorical"]);
  const auto weights = SplitList(params["class_weight"]);
  t.class_weight = !weights.empty() && weights[0] == "balanced" ? "balanced" : "none";
  for (size_t i = 1; i < weights.size(); ++i) {
    const auto eq = weights[i].rfind('=');
    if (eq != std::string::npos) {
      t.class_weights[weights[i].substr(0, eq)] = std::atof(weights[i].c_str() + eq + 1);
    }
  }
  const std::string validation = params["validation"];
  if (validation.rfind("stratified ", 0) == 0) {
    t.validation_fraction = std::atof(validation.c_str() + 11);
  } else if (!validation.empty()) {
    t.validation_inputs = SplitList(validation);
  }
  t.max_rounds = ParamInt(params, "max_rounds", t.max_rounds);
  t.early_stopping_rounds = ParamInt(params, "early_stopping_rounds", t.early_stopping_rounds);
  t.max_depth = ParamInt(params, "max_depth", t.max_depth);
  t.eta = ParamDouble(params, "eta", t.eta);
  t.subsample = ParamDouble(params, "subsample", t.subsample);
  t.seed = ParamInt(params, "seed", t.seed);
  return t;
}

// The champion's recorded text recipe (TextRunRecord's params) as options.
TextTrainOptions TextRecipe(std::map<std::string, std::string>& params) {
  TextTrainOptions o;
  o.epoch = ParamInt(params, "epoch", o.epoch);
  o.lr = ParamDouble(params, "lr", o.lr);
  o.dim = ParamInt(params, "dim", o.dim);
  o.word_ngrams = ParamInt(params, "word_ngrams", o.word_ngrams);
  o.minn = ParamInt(params, "minn", o.minn);
  o.maxn = ParamInt(params, "maxn", o.maxn);
  o.bucket = ParamInt(params, "bucket", o.bucket);
  o.seed = ParamInt(params, "seed", o.seed);
  o.quantize = params["quantize"] == "true";
  o.model = params.count("model") ? params["model"] : "fasttext";
  if (o.model == "mlp") {
    o.mlp.hidden = ParamInt(params, "hidden", o.mlp.hidden);
    o.mlp.dropout = static_cast<float>(ParamDouble(params, "dropout", o.mlp.dropout));
    o.mlp.weight_decay =
        static_cast<float>(ParamDouble(params, "weight_decay", o.mlp.weight_decay));
    o.mlp.batch_size = ParamInt(params, "batch_size", o.mlp.batch_size);
    o.mlp.max_epochs = ParamInt(params, "max_epochs", o.mlp.max_epochs);
    o.mlp.ensemble = ParamInt(params, "ensemble", o.mlp.ensemble);
    o.mlp.bagging = params["bagging"] == "true";
    o.mlp.learning_rate = static_cast<float>(o.lr);
    o.min_df = ParamInt(params, "min_df", o.min_df);
  }
  return o;
}

}  // namespace

StatusOr<RetrainOutcome> RetrainModel(const std::string& model, const std::string& trigger,
                                      const RetrainConfig& config, RetrainEnv& env) {
  RetrainOutcome out;
  out.model = model;
  out.trigger = trigger;
  out.mode = config.mode;
  out.started_ms = env.clock.NowUnixMillis();

  // The champion and the recipe it was trained with.
  auto champion = env.registry.GetVersionByAlias(model, "champion");
  if (!champion.ok()) {
    return FailedPrecondition("model '" + model + "' has no @champion to retrain from");
  }
  out.champion_version = champion->version;
  if (champion->run_id.empty()) {
    return FailedPrecondition("the champion of '" + model +
                              "' has no training run: its recipe is unknown");
  }
  ASSIGN_OR_RETURN(Run run, env.runs.GetRun(champion->run_id));
  const bool fine_tune = config.mode == "fine_tune";
  ASSIGN_OR_RETURN(ModelConfig champion_config,
                   LoadModelConfig(champion->storage_path + "/config.toml"));
  const bool tabular = champion_config.flavor == "xgboost";
  if (fine_tune && champion_config.flavor != "mlp") {
    return FailedPrecondition("retrain.mode = \"fine_tune\" needs an mlp champion; '" + model +
                              "' is " + champion_config.flavor);
  }
  if (champion_config.flavor == "onnx") {
    return FailedPrecondition("'" + model + "' is an ONNX model, which closedloop cannot retrain");
  }
  std::map<std::string, std::string> params(run.params.begin(), run.params.end());
  std::vector<std::string> inputs = SplitList(params["input"]);
  if (inputs.empty()) {
    return FailedPrecondition("the champion's run " + run.info.run_id + " records no input data");
  }
  std::string text_col = params.count("text_col") ? params["text_col"] : "text";
  std::string label_col = params.count("label_col") ? params["label_col"] : "label";
  std::string holdout = config.holdout;
  if (holdout.empty()) {
    auto tests = SplitList(params["test"]);
    if (tests.size() == 1 && tests[0].rfind("stratified", 0) != 0) holdout = tests[0];
  }
  if (holdout.empty()) {
    return FailedPrecondition("no fixed holdout for '" + model +
                              "': set retrain.holdout (the champion was not tested on a file)");
  }

  // The feedback examples.
  FeedbackDataset data;
  RETURN_IF_ERROR(env.read_predictions([&](SqliteDb& db) -> Status {
    ASSIGN_OR_RETURN(data, BuildFeedbackDataset(db, model, config));
    return OkStatus();
  }));
  out.human_labels = data.human_labels;
  out.annotations = data.annotations;
  out.weak_positives = data.weak_positives;
  out.low_scored = data.low_scored;
  out.without_text = data.without_text;
  out.evaluation_rows = data.evaluation.size();
  out.newest_label_ms = data.newest_label_ms;

  // Staging: the training set, the holdout and the recent labels as JSONL.
  UlidGenerator ids(env.clock);
  std::filesystem::path staging =
      std::filesystem::path(env.data_dir) / "staging" / ("retrain-" + model + "-" + ids.Next());
  std::error_code ec;
  std::filesystem::create_directories(staging, ec);
  if (ec) return Unavailable("cannot create " + staging.string() + ": " + ec.message());
  struct Cleanup {
    std::filesystem::path dir;
    ~Cleanup() {
      std::error_code e;
      std::filesystem::remove_all(dir, e);
    }
  } cleanup{staging};

  // Copies of a feedback example: floor(w), plus one with probability frac(w)
  // fixed by the request id.
  auto copies_of = [](const FeedbackExample& e) {
    double whole = std::floor(e.weight);
    double u = static_cast<double>(SplitBucket(e.request_id, 11)) / 1e6;
    return static_cast<int>(whole) + (u < e.weight - whole ? 1 : 0);
  };
  auto provenance_line = [](const FeedbackExample& e, int copies) {
    JsonWriter p;
    p.BeginObject().Key("source").String(e.source).Key("request_id").String(e.request_id);
    p.Key("feedback_id").String(e.feedback_id).Key("label").String(e.label);
    p.Key("text").String(e.text).Key("weight").Double(e.weight).Key("copies").Int(copies);
    if (e.source == "weak_positive") {
      p.Key("score").Double(e.score).Key("propensity").Double(e.propensity);
    }
    if (e.source == "annotation") {
      p.Key("strategy").String(e.strategy).Key("propensity").Double(e.propensity);
      p.Key("confidence").Double(e.confidence).Key("annotators").Int(e.annotators);
    }
    p.Key("feedback_ts_ms").Int(e.ts_ms).EndObject();
    return p.str() + "\n";
  };

  const std::string train_file = (staging / "train.jsonl").string();
  std::string provenance;
  ASSIGN_OR_RETURN(CsvTable original, ReadTables(inputs, TableFormat::kAuto));
  {
    std::ofstream train(train_file);
    if (fine_tune) {  // the original data is rehearsed, not written
      ASSIGN_OR_RETURN(size_t tc, original.Column(text_col));
      for (const auto& row : original.rows) out.original_rows += row[tc].empty() ? 0 : 1;
    } else if (tabular) {
      for (const auto& row : original.rows) train << JsonlRow(original.header, row) << "\n";
      out.original_rows = original.rows.size();
      out.written_rows = out.original_rows;
    } else {
      ASSIGN_OR_RETURN(out.original_rows, WriteJsonl(original, text_col, label_col, train));
      out.written_rows = out.original_rows;
    }
    JsonWriter head;
    head.BeginObject().Key("source").String("original").Key("files").BeginArray();
    for (const auto& f : inputs) head.String(f);
    head.EndArray().Key("rows").Int(static_cast<int64_t>(out.original_rows));
    head.Key("use").String(fine_tune ? "replay" : "training").EndObject();
    provenance = head.str() + "\n";
    for (const auto& e : data.train) {
      int copies = copies_of(e);
      std::string line;
      if (tabular) {
        auto cells = FeedbackRowCells(e.text, original.header, label_col, e.label,
                                      champion_config.categories);
        if (!cells.ok()) {
          ++out.without_text;  // an input that cannot become a row is not trained on
          continue;
        }
        line = JsonlRow(original.header, *cells);
      } else {
        line = Line(e.text, e.label);
      }
      for (int i = 0; i < copies; ++i) train << line << "\n";
      out.written_rows += static_cast<size_t>(copies);
      provenance += provenance_line(e, copies);
    }
    if (!train) return Unavailable("cannot write " + train_file);
  }
  // Both models are evaluated on the holdout and the recent labels: for text as
  // text/label JSONL, for tabular models in the table's own columns.
  std::string holdout_file = (staging / "holdout.jsonl").string();
  const std::string eval_text_col = tabular ? "" : "text";
  const std::string eval_label_col = tabular ? label_col : "label";
  {
    std::ofstream h(holdout_file);
    ASSIGN_OR_RETURN(CsvTable table, ReadTables({holdout}, TableFormat::kAuto));
    size_t rows = 0;
    if (tabular) {
      for (const auto& row : table.rows) h << JsonlRow(table.header, row) << "\n";
      rows = table.rows.size();
    } else {
      ASSIGN_OR_RETURN(rows, WriteJsonl(table, text_col, label_col, h));
    }
    if (rows == 0) return FailedPrecondition("the holdout '" + holdout + "' has no rows");
  }
  const std::string recent_file = (staging / "recent.jsonl").string();
  size_t recent_rows = 0;
  {
    std::ofstream r(recent_file);
    for (const auto& e : data.evaluation) {
      if (tabular) {
        auto cells = FeedbackRowCells(e.text, original.header, label_col, e.label,
                                      champion_config.categories);
        if (!cells.ok()) continue;
        r << JsonlRow(original.header, *cells) << "\n";
      } else {
        r << Line(e.text, e.label) << "\n";
      }
      ++recent_rows;
    }
  }

  LogInfo("retraining")
      .Kv("model", model)
      .Kv("trigger", trigger)
      .Kv("mode", config.mode)
      .Kv("original_rows", out.original_rows)
      .Kv("human_labels", out.human_labels)
      .Kv("weak_positives", out.weak_positives);
  if (fine_tune && out.written_rows == 0) {
    return FailedPrecondition("no feedback examples to fine-tune '" + model + "' on");
  }
  // Train the candidate with the champion's recipe.
  const std::string candidate_dir = (staging / "candidate").string();
  TrainingRunRecord record;
  if (tabular) {
    TabularTrainOptions t = TabularRecipe(params, original.header, label_col);
    t.inputs = {train_file};
    t.test_inputs = {holdout_file};
    t.format = TableFormat::kJsonl;
    t.output_dir = candidate_dir;
    t.threads = env.threads;
    t.top_k = champion_config.top_k;
    ASSIGN_OR_RETURN(TabularTrainResult trained, TrainTabularClassifier(t));
    record = TabularRunRecord(t, trained);
  } else {
    TextTrainOptions o = TextRecipe(params);
    o.inputs = {train_file};
    o.test_inputs = {holdout_file};
    o.format = TableFormat::kJsonl;
    o.text_col = "text";
    o.label_col = "label";
    o.output_dir = candidate_dir;
    if (fine_tune) {
      o.fine_tune_from = champion->storage_path;
      o.replay_inputs = inputs;
      o.replay_text_col = text_col;
      o.replay_label_col = label_col;
      o.replay_size = config.replay_size;
      o.ewc_lambda = config.ewc_lambda;
    }
    o.threads = env.threads;
    o.progress = ProgressMode::kNever;
    ASSIGN_OR_RETURN(TextTrainResult trained, TrainTextClassifier(o));
    out.replay_rows = trained.replay_rows;
    out.added_labels = trained.added_labels;
    record = TextRunRecord(o, trained);
  }
  {
    std::ofstream p(std::filesystem::path(candidate_dir) / "provenance.jsonl");
    p << provenance;
  }

  // Evaluate both on the same data, then the gates.
  ASSIGN_OR_RETURN(auto champ_holdout,
                   EvaluateModelOnFile(champion->storage_path, holdout_file, TableFormat::kJsonl,
                                       eval_text_col, eval_label_col));
  ASSIGN_OR_RETURN(auto cand_holdout,
                   EvaluateModelOnFile(candidate_dir, holdout_file, TableFormat::kJsonl,
                                       eval_text_col, eval_label_col));
  out.champion_holdout = champ_holdout.accuracy;
  out.candidate_holdout = cand_holdout.accuracy;
  bool holdout_ok = out.candidate_holdout >= out.champion_holdout - config.max_holdout_drop - 1e-12;
  out.gates.push_back({"holdout", holdout_ok,
                       "candidate " + Percent(out.candidate_holdout) + " vs champion " +
                           Percent(out.champion_holdout) + " (may be " +
                           Percent(config.max_holdout_drop) + " lower) on " +
                           std::to_string(cand_holdout.rows) + " rows of " + holdout});
  if (recent_rows > 0) {
    ASSIGN_OR_RETURN(auto c,
                     EvaluateModelOnFile(champion->storage_path, recent_file, TableFormat::kJsonl,
                                         eval_text_col, eval_label_col));
    ASSIGN_OR_RETURN(auto n, EvaluateModelOnFile(candidate_dir, recent_file, TableFormat::kJsonl,
                                                 eval_text_col, eval_label_col));
    out.champion_recent = c.accuracy;
    out.candidate_recent = n.accuracy;
    bool ok = n.accuracy >= c.accuracy - config.max_holdout_drop - 1e-12;
    out.gates.push_back({"recent", ok,
                         "candidate " + Percent(n.accuracy) + " vs champion " +
                             Percent(c.accuracy) + " on " + std::to_string(n.rows) +
                             " recent human labels held out of training"});
  }
  if (!config.must_pass.empty()) {
    ASSIGN_OR_RETURN(auto m,
                     EvaluateModelOnFile(candidate_dir, config.must_pass, TableFormat::kAuto,
                                         tabular ? "" : "text", tabular ? label_col : "label"));
    auto wrong = static_cast<int64_t>(std::llround((1 - m.accuracy) * static_cast<double>(m.rows)));
    std::string failing;
    for (const auto& c : m.per_class) {
      if (c.support > 0 && c.recall < 1) failing += (failing.empty() ? "" : ", ") + c.label;
    }
    out.gates.push_back({"must_pass", wrong == 0,
                         std::to_string(wrong) + " of " + std::to_string(m.rows) +
                             " must-pass inquiries wrong" +
                             (failing.empty() ? "" : " (intents: " + failing + ")")});
  }
  out.passed = true;
  for (const auto& g : out.gates) out.passed = out.passed && g.passed;

  // Log the run (always) and register a passing candidate as @challenger.
  record.source = "closedloop retrain";
  // The recipe stays the original one (data, columns, holdout), so that retraining
  // a retrained champion starts again from the original data plus all feedback;
  // what this training actually read is the provenance file beside the model.
  for (auto& [k, v] : record.params) {
    if (k == "input") v = params["input"];
    if (k == "text_col") v = text_col;
    if (k == "validation" && tabular) v = params["validation"];
    if (k == "label_col") v = label_col;
    if (k == "test") v = holdout;
  }
  record.params.emplace_back("retrain.training_rows_written", std::to_string(out.written_rows));
  record.params.emplace_back("retrain.trigger", trigger);
  record.params.emplace_back("retrain.original_input", params["input"]);
  record.params.emplace_back("retrain.holdout", holdout);
  record.params.emplace_back("retrain.champion_version", std::to_string(champion->version));
  auto& m = record.metrics;
  m.push_back({"retrain_human_labels", static_cast<double>(out.human_labels), 0, 0});
  m.push_back({"retrain_weak_positives", static_cast<double>(out.weak_positives), 0, 0});
  m.push_back({"retrain_low_scored", static_cast<double>(out.low_scored), 0, 0});
  m.push_back({"holdout_accuracy_candidate", out.candidate_holdout, 0, 0});
  m.push_back({"holdout_accuracy_champion", out.champion_holdout, 0, 0});
  if (out.candidate_recent) {
    m.push_back({"recent_accuracy_candidate", *out.candidate_recent, 0, 0});
    m.push_back({"recent_accuracy_champion", *out.champion_recent, 0, 0});
  }
  record.tags.emplace_back("closedloop.retrain.gates", out.passed ? "passed" : "failed");
  record.tags.emplace_back("closedloop.retrain.trigger", trigger);
  for (const auto& g : out.gates) {
    record.tags.emplace_back("closedloop.gate." + g.name,
                             std::string(g.passed ? "passed: " : "failed: ") + g.detail);
  }
  if (out.passed) {
    ASSIGN_OR_RETURN(RegisteredTraining reg,
                     LogAndRegister(env.runs, env.registry, model, candidate_dir, std::move(record),
                                    "retrained from feedback (" + trigger + ") from version " +
                                        std::to_string(champion->version),
                                    "challenger", env.clock));
    out.run_id = reg.run_id;
    out.version = reg.version.version;
  } else {
    ASSIGN_OR_RETURN(out.run_id, LogTrainingRun(env.runs, model, std::move(record), env.clock));
  }
  out.finished_ms = env.clock.NowUnixMillis();
  return out;
}

std::string RetrainOutcomeJson(const RetrainOutcome& o) {
  JsonWriter w(1024);
  w.BeginObject().Key("model").String(o.model).Key("trigger").String(o.trigger);
  w.Key("mode").String(o.mode);
  w.Key("started_ms").Int(o.started_ms).Key("finished_ms").Int(o.finished_ms);
  w.Key("passed").Bool(o.passed);
  if (!o.error.empty()) w.Key("error").String(o.error);
  w.Key("champion_version").Int(o.champion_version).Key("version");
  o.version ? w.Int(*o.version) : w.Null();
  w.Key("run_id").String(o.run_id);
  w.Key("data").BeginObject();
  w.Key("original_rows").Int(static_cast<int64_t>(o.original_rows));
  w.Key("human_labels").Int(static_cast<int64_t>(o.human_labels));
  w.Key("annotations").Int(static_cast<int64_t>(o.annotations));
  w.Key("weak_positives").Int(static_cast<int64_t>(o.weak_positives));
  w.Key("low_scored").Int(static_cast<int64_t>(o.low_scored));
  w.Key("without_text").Int(static_cast<int64_t>(o.without_text));
  w.Key("evaluation_rows").Int(static_cast<int64_t>(o.evaluation_rows));
  w.Key("written_rows").Int(static_cast<int64_t>(o.written_rows));
  w.Key("replay_rows").Int(static_cast<int64_t>(o.replay_rows));
  w.Key("added_labels").Int(static_cast<int64_t>(o.added_labels)).EndObject();
  w.Key("holdout_accuracy").BeginObject().Key("candidate").Double(o.candidate_holdout);
  w.Key("champion").Double(o.champion_holdout);
  w.Key("forgetting").Double(o.champion_holdout - o.candidate_holdout).EndObject();
  if (o.candidate_recent) {
    w.Key("recent_accuracy").BeginObject().Key("candidate").Double(*o.candidate_recent);
    w.Key("champion").Double(*o.champion_recent).EndObject();
  }
  w.Key("gates").BeginArray();
  for (const auto& g : o.gates) {
    w.BeginObject().Key("name").String(g.name).Key("passed").Bool(g.passed);
    w.Key("detail").String(g.detail).EndObject();
  }
  w.EndArray().EndObject();
  return std::move(w).Take();
}

}  // namespace closedloop
