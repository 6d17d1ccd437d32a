#include "monitor/drift_monitor.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <set>

#include "core/json_writer.h"
#include "core/logging.h"
#include "monitor/drift_stats.h"
#include "monitor/reference_profile.h"
#include "serving/image_input.h"

namespace closedloop {

namespace {

struct Window {
  std::vector<std::string> texts;
  std::vector<double> confidence;
  std::map<std::string, double> predicted, labels;
  int64_t count = 0, labelled = 0, labelled_correct = 0, from_ms = 0, to_ms = 0;
  std::string newest_id, oldest_id;
};

// PSI over categories (shares of counts; an empty share is 1e-4).
double CategoricalPsi(const std::map<std::string, double>& ref,
                      const std::map<std::string, double>& cur) {
  std::set<std::string> keys;
  double nr = 0, nc = 0;
  for (const auto& [k, v] : ref) keys.insert(k), nr += v;
  for (const auto& [k, v] : cur) keys.insert(k), nc += v;
  double psi = 0;
  for (const auto& k : keys) {
    auto r = ref.count(k) ? ref.at(k) / nr : 0, c = cur.count(k) ? cur.at(k) / nc : 0;
    r = r == 0 ? 1e-4 : r;
    c = c == 0 ? 1e-4 : c;
    psi += (c - r) * std::log(c / r);
  }
  return psi;
}

DriftSignal Categorical(std::string_view name, const std::map<std::string, double>& ref,
                        const std::map<std::string, double>& cur) {
  DriftSignal s;
  s.name = std::string(name);
  std::set<std::string> keys;
  for (const auto& [k, v] : ref) keys.insert(k);
  for (const auto& [k, v] : cur) keys.insert(k);
  // Reference counts + 0.5 for every category of either side, so a category the
  // reference sample never showed is still testable (its expected count is small, not 0).
  std::vector<double> rc, cc;
  for (const auto& k : keys) {
    rc.push_back((ref.count(k) ? ref.at(k) : 0) + 0.5);
    cc.push_back(cur.count(k) ? cur.at(k) : 0);
  }
  s.psi = CategoricalPsi(ref, cur);
  s.histogram = CategoricalHistogram(ref, cur);
  s.severity = SeverityName(PsiSeverity(*s.psi));
  auto chi = ChiSquare(rc, cc);
  if (chi.ok()) {
    s.test = "chi_square";
    s.statistic = chi->statistic;
    s.p_value = chi->p_value;
  } else {  // categories the reference never had: PSI alone decides
    s.test = "none";
    s.note = chi.status().message();
    s.drifted = *s.psi > 0.1;
  }
  return s;
}

DriftSignal Numeric(std::string_view name, const std::vector<double>& ref,
                    const std::vector<double>& cur) {
  DriftSignal s;
  s.name = std::string(name);
  s.test = "ks";
  s.histogram = NumericHistogram(ref, cur);
  auto ks = KolmogorovSmirnov(ref, cur);
  if (!ks.ok()) {
    s.test = "none";
    s.note = ks.status().message();
    return s;
  }
  s.statistic = ks->statistic;
  s.p_value = ks->p_value;
  if (auto psi = Psi(ref, cur); psi.ok()) {
    s.psi = *psi;
    s.severity = SeverityName(PsiSeverity(*psi));
  }
  return s;
}

// The model's newest `size` predictions and the people's labels given on them.
// `since_ms` > 0: only predictions at or after that time (a time window).
StatusOr<Window> ReadWindow(PredictionLog& log, const std::string& model, int64_t size,
                            int64_t since_ms) {
  Window w;
  (void)log.Flush(std::chrono::seconds(2));  // what was answered is in the window
  RETURN_IF_ERROR(log.Read([&](SqliteDb& db) -> Status {
    ASSIGN_OR_RETURN(auto q, db.Prepare("SELECT request_id, ts_ms, input_text, label, confidence "
                                        "FROM predictions WHERE model = ? AND ts_ms >= ? "
                                        "ORDER BY request_id DESC LIMIT ?"));
    q.BindText(1, model);
    q.BindInt(2, since_ms);
    q.BindInt(3, size);
    for (;;) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      if (w.count == 0) {
        w.newest_id = q.ColumnText(0);
        w.to_ms = q.ColumnInt(1);
      }
      w.oldest_id = q.ColumnText(0);
      w.from_ms = q.ColumnInt(1);
      ++w.count;
      if (auto t = q.ColumnTextOrNull(2)) w.texts.push_back(*t);
      w.predicted[q.ColumnText(3)] += 1;
      w.confidence.push_back(q.ColumnDouble(4));
    }
    if (w.count == 0) return OkStatus();
    ASSIGN_OR_RETURN(auto l, db.Prepare("SELECT f.label, p.label FROM feedback f JOIN "
                                        "predictions p ON "
                                        "p.request_id = f.request_id WHERE p.model = ? AND "
                                        "f.label IS NOT NULL AND p.request_id >= ?"));
    l.BindText(1, model);
    l.BindText(2, w.oldest_id);
    for (;;) {
      ASSIGN_OR_RETURN(bool row, l.Step());
      if (!row) break;
      std::string truth = l.ColumnText(0);
      w.labelled_correct += truth == l.ColumnText(1) ? 1 : 0;
      w.labels[truth] += 1;
      ++w.labelled;
    }
    return OkStatus();
  }));
  return w;
}

// Per-feature signals of a tabular model: the window's inputs are the canonical
// feature objects the server logs ({"name": number-or-null, ...}; a categorical
// feature as its code). Numeric: KS + PSI; categorical: chi-square + PSI.
void FeatureSignals(const ReferenceProfile& ref, const ModelVersion& mv,
                    const std::vector<std::string>& inputs, std::vector<DriftSignal>& out) {
  const size_t nf = ref.features.size();
  std::vector<std::vector<double>> numeric(nf);
  std::vector<std::map<std::string, double>> counts(nf);
  simdjson::dom::parser parser;
  for (const std::string& input : inputs) {
    simdjson::dom::object obj;
    if (parser.parse(input).get(obj)) continue;
    for (size_t f = 0; f < nf; ++f) {
      const FeatureProfile& fp = ref.features[f];
      double v;
      if (obj[fp.name].get(v) || !std::isfinite(v)) continue;  // missing (null) or absent
      if (!fp.categorical) {
        numeric[f].push_back(v);
        continue;
      }
      auto cats = mv.config.categories.find(fp.name);
      auto code = static_cast<size_t>(v);
      bool known = cats != mv.config.categories.end() && v >= 0 && code < cats->second.size();
      counts[f][known ? cats->second[code] : std::string("(unknown)")] += 1;
    }
  }
  for (size_t f = 0; f < nf; ++f) {
    const FeatureProfile& fp = ref.features[f];
    const std::string name = "feature:" + fp.name;
    if (fp.categorical) {
      out.push_back(Categorical(name, fp.counts, counts[f]));
    } else if (numeric[f].empty() || fp.sample.empty()) {
      DriftSignal s;
      s.name = name;
      s.test = "none";
      s.note = "no values in the " + std::string(numeric[f].empty() ? "window" : "reference");
      out.push_back(std::move(s));
    } else {
      out.push_back(Numeric(name, fp.sample, numeric[f]));
    }
  }
}

// Dataset drift as Evidently defines it: at least half of the features drifted.
DriftSignal DatasetDrift(const std::vector<DriftSignal>& signals) {
  int64_t features = 0, drifted = 0;
  for (const auto& s : signals) {
    if (s.name.rfind("feature:", 0) != 0 || s.test == "none") continue;
    ++features;
    drifted += s.drifted ? 1 : 0;
  }
  DriftSignal d;
  d.name = "dataset";
  d.test = "share_of_drifted_features";
  if (features == 0) {
    d.note = "no feature could be tested";
    return d;
  }
  d.statistic = static_cast<double>(drifted) / static_cast<double>(features);
  d.drifted = *d.statistic >= 0.5;
  d.severity = d.drifted ? "CRITICAL" : "OK";
  d.note = std::to_string(drifted) + " of " + std::to_string(features) + " features drifted";
  return d;
}

// Accuracy on people's labels in the window against the reference accuracy: a
// one-sided z test of the drop (normal approximation of the binomial). The drop
// in points decides the severity: >= accuracy_drop CRITICAL (once significant).
DriftSignal AccuracySignal(double reference, int64_t correct, int64_t n, double max_drop) {
  DriftSignal s;
  s.name = "accuracy";
  s.test = "binomial_z";
  const double acc = static_cast<double>(correct) / static_cast<double>(n);
  s.statistic = acc;
  const double var = reference * (1 - reference) / static_cast<double>(n);
  const double drop = reference - acc;
  if (var > 0) {
    s.p_value = 0.5 * std::erfc(drop / std::sqrt(var) / std::sqrt(2.0));
  } else {
    s.p_value = drop > 0 ? 0.0 : 1.0;
  }
  s.severity = drop >= max_drop ? "CRITICAL" : drop >= max_drop / 2 ? "WARNING" : "OK";
  char note[160];
  std::snprintf(note, sizeof note, "accuracy %.3f on %lld human labels; %.3f on the reference", acc,
                static_cast<long long>(n), reference);
  s.note = note;
  return s;
}

// A signal that could not be computed, and why.
DriftSignal Unavailable(const char* name, std::string note) {
  DriftSignal s;
  s.name = name;
  s.test = "none";
  s.note = std::move(note);
  return s;
}

int Rank(const std::string& severity) {
  return severity == "CRITICAL" ? 2 : severity == "WARNING" ? 1 : 0;
}

}  // namespace

DriftMonitor::DriftMonitor(const MonitorConfig& config, const ModelRepository& models,
                           PredictionLog& log, const Clock& clock, RetrainHook on_critical)
    : config_(config),
      models_(models),
      log_(log),
      clock_(clock),
      on_critical_(std::move(on_critical)) {}

DriftMonitor::~DriftMonitor() { Stop(); }

StatusOr<ModelDriftReport> DriftMonitor::Evaluate(const std::string& model, int64_t window_size,
                                                  int64_t window_minutes) {
  if (window_minutes <= 0 && window_size <= 0) window_minutes = config_.window_minutes;
  if (window_size <= 0) {
    window_size = window_minutes > 0 ? kMaxTimeWindowPredictions : config_.window_predictions;
  }
  const int64_t since_ms = window_minutes > 0 ? clock_.NowUnixMillis() - window_minutes * 60000 : 0;
  auto resolved = models_.Resolve(model + "@champion", "");
  if (!resolved.ok()) resolved = models_.Resolve(model, "");  // no alias: the newest version
  if (!resolved.ok()) return resolved.status();
  std::shared_ptr<const ModelVersion> champion = std::move(resolved).value();
  ModelDriftReport r;
  r.model = model;
  r.version = champion->version_label;
  r.computed_ms = clock_.NowUnixMillis();
  auto profile = Profile(*champion);
  if (!profile.ok()) {
    r.state = "no_reference";
    r.severity = "OK";
    r.signals.push_back(Unavailable("reference", profile.status().message()));
  } else {
    const ReferenceProfile& ref = **profile;
    ASSIGN_OR_RETURN(Window w, ReadWindow(log_, model, window_size, since_ms));
    r.window_minutes = window_minutes;
    r.window_predictions = w.count;
    r.window_labels = w.labelled;
    r.from_ms = w.from_ms;
    r.to_ms = w.to_ms;
    r.newest_request_id = w.newest_id;
    if (w.count < config_.min_window) {
      r.state = "not_enough_data";
      r.severity = "OK";
      r.signals.push_back(
          Unavailable("window", "not enough data: " + std::to_string(w.count) + " predictions, " +
                                    std::to_string(config_.min_window) + " needed"));
    } else {
      r.state = "ok";
      r.signals.push_back(Categorical("prediction", ref.predicted, w.predicted));
      r.signals.push_back(Numeric("confidence", ref.confidence, w.confidence));
      if (!ref.features.empty()) FeatureSignals(ref, *champion, w.texts, r.signals);
      if (!w.texts.empty()) {
        std::vector<double> lengths, oov;
        std::vector<std::vector<float>> vectors;
        const bool image = champion->config.image.has_value();
        for (const auto& t : w.texts) {
          if (static_cast<int64_t>(vectors.size()) < config_.max_vectors) {
            // An image's embedding is the penultimate layer the server logged with it.
            auto v = image ? LoggedImageEmbedding(t) : champion->backend->SentenceVector(t);
            if (v.ok()) vectors.push_back(std::move(v).value());
          }
          if (image) continue;
          lengths.push_back(static_cast<double>(t.size()));
          if (auto o = champion->backend->OovRate(t); o.ok()) oov.push_back(*o);
        }
        if (!image) r.signals.push_back(Numeric("text_length", ref.text_length, lengths));
        if (!ref.oov_rate.empty() && !oov.empty()) {
          r.signals.push_back(Numeric("oov_rate", ref.oov_rate, oov));
        }
        if (!ref.vectors.empty() && vectors.size() >= 2) {
          DriftSignal s;
          s.name = "embedding";
          s.test = "mmd";
          auto mmd = MmdPermutationTest(ref.vectors, vectors, config_.mmd_permutations,
                                        static_cast<uint64_t>(w.count));
          if (mmd.ok()) {
            s.statistic = mmd->statistic;
            s.p_value = mmd->p_value;
          } else {
            s.test = "none";
            s.note = mmd.status().message();
          }
          r.signals.push_back(s);
        }
      }
      if (w.labelled >= config_.min_labels && !ref.truth.empty()) {
        r.signals.push_back(Categorical("label", ref.truth, w.labels));
      } else {
        r.signals.push_back(Unavailable(
            "label", "not enough data: " + std::to_string(w.labelled) + " human labels, " +
                         std::to_string(config_.min_labels) + " needed"));
      }
      if (w.labelled >= config_.min_labels && ref.accuracy) {
        r.signals.push_back(
            AccuracySignal(*ref.accuracy, w.labelled_correct, w.labelled, config_.accuracy_drop));
      } else {
        r.signals.push_back(Unavailable(
            "accuracy", !ref.accuracy
                            ? "the reference profile has no accuracy"
                            : "not enough data: " + std::to_string(w.labelled) + " human labels, " +
                                  std::to_string(config_.min_labels) + " needed"));
      }
      // Benjamini–Hochberg over the window's tests.
      std::vector<double> p;
      std::vector<DriftSignal*> tested;
      for (auto& s : r.signals) {
        if (s.p_value) {
          p.push_back(*s.p_value);
          tested.push_back(&s);
        }
      }
      auto adj = BenjaminiHochberg(p);
      for (size_t i = 0; i < tested.size(); ++i) {
        tested[i]->adjusted_p_value = adj[i];
        tested[i]->drifted = adj[i] < config_.alpha;
        if (tested[i]->name == "embedding" && tested[i]->drifted) tested[i]->severity = "WARNING";
      }
      for (auto& sig : r.signals) {  // an accuracy drop is CRITICAL once it is significant too
        if (sig.name == "accuracy" && sig.severity == "CRITICAL" && !sig.drifted) {
          sig.severity = "WARNING";
        }
      }
      if (!ref.features.empty()) r.signals.push_back(DatasetDrift(r.signals));
      r.severity = "OK";
      for (const auto& s : r.signals) {
        if (Rank(s.severity) > Rank(r.severity)) r.severity = s.severity;
      }
    }
    // Retraining from feedback exists for text models; a tabular model's drift is an alert.
    const bool text_model = profile.ok() && (*profile)->features.empty();
    if (r.severity == "CRITICAL" && text_model && config_.retrain_on_critical && on_critical_) {
      bool fire;
      {
        std::lock_guard<std::mutex> lock(mu_);
        auto it = last_trigger_.find(model);
        fire = it == last_trigger_.end() || w.oldest_id > it->second;
        if (fire) last_trigger_[model] = w.newest_id;
      }
      if (fire) {
        std::string reason = "drift:";
        for (const auto& s : r.signals) {
          if (s.severity == "CRITICAL") reason += " " + s.name;
        }
        r.retrain_requested = true;
        LogWarn("critical drift: requesting a retraining").Kv("model", model).Kv("signals", reason);
        on_critical_(model, reason);
      }
    }
  }
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto& kept = reports_[model];
    kept.push_front(r);
    if (kept.size() > kKeptReports) kept.pop_back();
  }
  if (listener_) listener_(r);
  return r;
}

StatusOr<std::shared_ptr<const ReferenceProfile>> DriftMonitor::Profile(const ModelVersion& v) {
  // A version's files do not change under the same fingerprint: read each profile once.
  const std::string key = v.path + "|" + v.fingerprint;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (auto it = profiles_.find(key); it != profiles_.end()) return it->second;
  }
  ASSIGN_OR_RETURN(ReferenceProfile p,
                   LoadReferenceProfile(std::filesystem::path(v.path).parent_path().string()));
  auto shared = std::make_shared<const ReferenceProfile>(std::move(p));
  std::lock_guard<std::mutex> lock(mu_);
  profiles_[key] = shared;
  return shared;
}

std::vector<ModelDriftReport> DriftMonitor::Latest(const std::string& model) const {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<ModelDriftReport> out;
  for (const auto& [name, kept] : reports_) {
    if (!model.empty() && name != model) continue;
    out.insert(out.end(), kept.begin(), kept.end());
  }
  return out;
}

void DriftMonitor::Start() {
  if (config_.interval_ms <= 0) return;
  thread_ = std::thread([this] {
    std::unique_lock<std::mutex> lock(mu_);
    while (!stop_) {
      cv_.wait_for(lock, std::chrono::milliseconds(config_.interval_ms));
      if (stop_) break;
      lock.unlock();
      std::set<std::string> names;
      for (const ModelState& m : models_.List()) {
        if (m.ready) names.insert(m.name);
      }
      for (const auto& name : names) {
        auto mv = models_.Resolve(name, "");
        if (!mv.ok()) continue;
        const std::string_view flavor = (*mv)->backend->flavor();
        if (flavor != "fasttext" && flavor != "mlp" && flavor != "xgboost") continue;
        auto r = Evaluate(name);
        if (!r.ok())
          LogWarn("drift check failed").Kv("model", name).Kv("error", r.status().message());
      }
      lock.lock();
    }
  });
}

void DriftMonitor::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

std::string ModelDriftReportJson(const ModelDriftReport& r, bool histograms) {
  JsonWriter w(2048);
  auto opt = [&](const char* key, const std::optional<double>& v) {
    w.Key(key);
    v ? w.Double(*v) : w.Null();
  };
  w.BeginObject().Key("model").String(r.model).Key("reference_version").String(r.version);
  w.Key("computed_ms").Int(r.computed_ms).Key("state").String(r.state);
  w.Key("severity").String(r.severity);
  w.Key("window").BeginObject().Key("predictions").Int(r.window_predictions);
  w.Key("labels").Int(r.window_labels).Key("from_ms").Int(r.from_ms).Key("to_ms").Int(r.to_ms);
  if (r.window_minutes > 0) w.Key("minutes").Int(r.window_minutes);
  w.EndObject().Key("signals").BeginArray();
  for (const auto& s : r.signals) {
    w.BeginObject().Key("name").String(s.name).Key("test").String(s.test);
    opt("statistic", s.statistic);
    opt("p_value", s.p_value);
    opt("adjusted_p_value", s.adjusted_p_value);
    opt("psi", s.psi);
    w.Key("severity").String(s.severity).Key("drifted").Bool(s.drifted);
    if (!s.note.empty()) w.Key("note").String(s.note);
    if (histograms && s.histogram) {
      const DriftHistogram& h = *s.histogram;
      w.Key("histogram").BeginObject();
      if (!h.categories.empty()) {
        w.Key("categories").BeginArray();
        for (const auto& c : h.categories) w.String(c);
        w.EndArray();
      } else {
        w.Key("edges").BeginArray();
        for (double e : h.edges) w.Double(e);
        w.EndArray();
      }
      for (auto [key, side] : {std::pair{"reference", &h.reference}, {"current", &h.current}}) {
        w.Key(key).BeginArray();
        for (double v : *side) w.Double(v);
        w.EndArray();
      }
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndArray().Key("retrain_requested").Bool(r.retrain_requested).EndObject();
  return std::move(w).Take();
}

}  // namespace closedloop
