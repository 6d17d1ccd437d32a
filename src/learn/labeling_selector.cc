#include "learn/labeling_selector.h"

#include <simdjson.h>

#include <algorithm>
#include <future>
#include <random>
#include <set>
#include <unordered_map>

#include "core/json_writer.h"
#include "core/logging.h"
#include "learn/batch_selection.h"
#include "serving/image_input.h"

namespace closedloop {

namespace {

constexpr int kSuggestions = 5;

struct Candidate {
  std::string request_id, text, predicted, top_k_json;
};

// An image model's distribution as it was served: the logged top-k (the image
// itself is not kept, only its record and thumbnail), the other labels at 0.
StatusOr<std::vector<float>> LoggedDistribution(std::string_view top_k_json,
                                                const std::vector<std::string>& labels) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::array arr;
  if (parser.parse(top_k_json.data(), top_k_json.size()).get(arr)) {
    return InvalidArgument("the logged top_k is not a JSON array");
  }
  std::vector<float> p(labels.size(), 0.0f);
  for (auto e : arr) {
    std::string_view label;
    double q;
    if (e["label"].get(label) || e["p"].get(q)) continue;
    auto it = std::find(labels.begin(), labels.end(), label);
    if (it != labels.end()) p[static_cast<size_t>(it - labels.begin())] = static_cast<float>(q);
  }
  return p;
}

// The distribution of `backend` over `labels` (another version's labels mapped by name).
StatusOr<std::vector<float>> Distribution(const Backend& backend, std::string_view text,
                                          const std::vector<std::string>& labels) {
  const auto& own = backend.labels();
  ASSIGN_OR_RETURN(LabelScores scores, backend.PredictText(text, static_cast<int>(own.size())));
  std::vector<float> p(labels.size(), 0.0f);
  if (&own == &labels) {
    for (const auto& s : scores) p[static_cast<size_t>(s.index)] = s.p;
    return p;
  }
  std::unordered_map<std::string_view, size_t> at;
  for (size_t i = 0; i < labels.size(); ++i) at[labels[i]] = i;
  for (const auto& s : scores) {
    auto it = at.find(own[static_cast<size_t>(s.index)]);
    if (it != at.end()) p[it->second] = s.p;
  }
  return p;
}

std::string SuggestionsJson(const std::vector<float>& p, const std::vector<std::string>& labels) {
  std::vector<size_t> order(p.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  const size_t k = std::min<size_t>(kSuggestions, order.size());
  std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(k), order.end(),
                    [&](size_t a, size_t b) { return p[a] > p[b]; });
  JsonWriter w(256);
  w.BeginArray();
  for (size_t i = 0; i < k; ++i) {
    w.BeginObject().Key("label").String(labels[order[i]]).Key("p").Double(p[order[i]]).EndObject();
  }
  w.EndArray();
  return std::move(w).Take();
}

}  // namespace

LabelingSelector::LabelingSelector(const LabelingConfig& config, const ModelRepository& models,
                                   PredictionLog& log, const Clock& clock)
    : config_(config), models_(models), log_(log), clock_(clock), ids_(clock) {}

LabelingSelector::~LabelingSelector() { Stop(); }

void LabelingSelector::Start() {
  std::lock_guard<std::mutex> lock(mu_);
  if (thread_.joinable()) return;
  stop_ = false;
  thread_ = std::thread([this] { Loop(); });
}

void LabelingSelector::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
  // Requests that never ran are answered.
  std::deque<std::pair<SelectionRequest, std::function<void(StatusOr<SelectionSummary>)>>> left;
  {
    std::lock_guard<std::mutex> lock(mu_);
    left.swap(queue_);
  }
  for (auto& [req, done] : left) done(Unavailable("the labeling selector is stopping"));
}

void LabelingSelector::SelectAsync(SelectionRequest request,
                                   std::function<void(StatusOr<SelectionSummary>)> done) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!stop_ && thread_.joinable()) {
      queue_.emplace_back(std::move(request), std::move(done));
      wake_.notify_all();
      return;
    }
  }
  done(Unavailable("the labeling selector is not running"));
}

void LabelingSelector::Loop() {
  auto next_periodic = clock_.MonotonicNow() + std::chrono::milliseconds(config_.interval_ms);
  std::unique_lock<std::mutex> lock(mu_);
  while (!stop_) {
    if (!queue_.empty()) {
      auto [req, done] = std::move(queue_.front());
      queue_.pop_front();
      lock.unlock();
      done(Select(req));
      lock.lock();
      continue;
    }
    if (!config_.model.empty() && clock_.MonotonicNow() >= next_periodic) {
      next_periodic = clock_.MonotonicNow() + std::chrono::milliseconds(config_.interval_ms);
      lock.unlock();
      auto s = Select({config_.model, {}, {}, {}, {}});
      if (!s.ok()) {
        LogWarn("labeling: selection failed")
            .Kv("model", config_.model)
            .Kv("error", s.status().message());
      } else if (!s->tasks.empty()) {
        LogInfo("labeling: tasks queued")
            .Kv("model", config_.model)
            .Kv("tasks", static_cast<int64_t>(s->tasks.size()))
            .Kv("pool", static_cast<int64_t>(s->pool));
      }
      lock.lock();
      continue;
    }
    if (config_.model.empty()) {
      wake_.wait(lock);
    } else {
      wake_.wait_until(lock, next_periodic);
    }
  }
}

StatusOr<SelectionSummary> LabelingSelector::Select(const SelectionRequest& req) {
  if (req.model.empty()) return InvalidArgument("missing field 'model'");
  ASSIGN_OR_RETURN(auto mv, models_.Resolve(req.model, ""));
  const Backend& backend = *mv->backend;
  const auto& labels = backend.labels();
  if (labels.empty()) {
    return InvalidArgument("model '" + req.model + "' is not a classifier: nothing to label");
  }
  SelectionOptions options;
  ASSIGN_OR_RETURN(options.strategy, ParseSelectionStrategy(config_.strategy, "labeling.strategy"));
  if (req.strategy) options.strategy = *req.strategy;
  options.batch = static_cast<size_t>(req.batch.value_or(config_.batch));
  options.random_share = req.random_share.value_or(config_.random_share);
  options.diversity = req.diversity.value_or(config_.diversity);
  options.diversity_pool = config_.diversity_pool;

  SelectionSummary summary;
  summary.model = mv->name;
  summary.version = mv->version_label;
  summary.strategy = std::string(SelectionStrategyName(options.strategy));
  const int64_t now = clock_.NowUnixMillis();
  std::vector<Candidate> candidates;
  int64_t last_hour = 0, last_day = 0;
  // Predictions already answered may still be queued for the writer: they count.
  (void)log_.Flush(std::chrono::seconds(5));
  RETURN_IF_ERROR(log_.Read([&](SqliteDb& db) -> Status {
    ASSIGN_OR_RETURN(last_hour, CountSelectedSince(db, req.model, now - 3600 * 1000));
    ASSIGN_OR_RETURN(last_day, CountSelectedSince(db, req.model, now - 24 * 3600 * 1000));
    ASSIGN_OR_RETURN(auto q,
                     db.Prepare("SELECT p.request_id, p.input_text, p.label, "
                                "p.input_sha256, p.top_k FROM predictions p WHERE p.model = ? AND "
                                "p.input_text IS NOT NULL AND COALESCE(p.action, '') != "
                                "'escalate' AND NOT EXISTS (SELECT 1 FROM labeling_tasks "
                                "t WHERE t.request_id = p.request_id) ORDER BY "
                                "p.request_id DESC LIMIT ?"));
    q.BindText(1, req.model);
    q.BindInt(2, config_.candidate_window);
    std::set<std::string> seen;
    for (;;) {
      ASSIGN_OR_RETURN(bool row, q.Step());
      if (!row) break;
      if (!seen.insert(q.ColumnText(3)).second) continue;  // one task per distinct text
      candidates.push_back({q.ColumnText(0), q.ColumnText(1), q.ColumnText(2), q.ColumnText(4)});
    }
    return OkStatus();
  }));
  int64_t budget = -1;
  if (config_.budget_per_hour > 0)
    budget = std::max<int64_t>(0, config_.budget_per_hour - last_hour);
  if (config_.budget_per_day > 0) {
    int64_t day = std::max<int64_t>(0, config_.budget_per_day - last_day);
    budget = budget < 0 ? day : std::min(budget, day);
  }
  summary.budget_left = budget;
  if (budget >= 0 && static_cast<int64_t>(options.batch) > budget) {
    options.batch = static_cast<size_t>(budget);
    summary.note = "the labeling budget allows " + std::to_string(budget) + " more task(s) now";
  }
  if (options.batch == 0) return summary;
  if (candidates.empty()) {
    summary.note =
        "no new predictions with their text to select from (needs "
        "prediction_log.store_inputs = true)";
    return summary;
  }

  // The committee for qbc: the model's ensemble members and its other loaded versions.
  std::vector<std::shared_ptr<const ModelVersion>> others;
  if (options.strategy == SelectionStrategy::kQbc) {
    for (const ModelState& s : models_.List()) {
      if (s.name != mv->name || !s.ready || s.version == mv->version) continue;
      auto other = models_.Resolve(s.name, std::to_string(s.version));
      if (other.ok()) others.push_back(std::move(other).value());
    }
  }
  std::vector<SelectionCandidate> pool;
  std::vector<std::vector<float>> distributions;
  std::vector<bool> hard;
  std::vector<Candidate> kept;
  const bool image = mv->config.image.has_value();
  for (Candidate& c : candidates) {
    auto p =
        image ? LoggedDistribution(c.top_k_json, labels) : Distribution(backend, c.text, labels);
    if (!p.ok()) continue;  // e.g. no known words: nothing a label would teach this model
    std::vector<std::vector<float>> members;
    if (options.strategy == SelectionStrategy::kQbc) {
      if (auto m = backend.TextCommittee(c.text); m.ok() && m->size() > 1) members = *m;
      if (members.empty()) members.push_back(*p);
      for (const auto& o : others) {
        if (auto q = Distribution(*o->backend, c.text, labels); q.ok()) members.push_back(*q);
      }
      if (members.size() < 2) {
        RETURN_IF_ERROR(InformativenessScore(options.strategy, *p, members).status());
      }
      summary.committee = members.size();
    }
    ASSIGN_OR_RETURN(double score, InformativenessScore(options.strategy, *p, members));
    bool disagree = false;
    for (size_t i = 1; i < members.size(); ++i) {
      auto top = [](const std::vector<float>& v) {
        return std::max_element(v.begin(), v.end()) - v.begin();
      };
      if (top(members[i]) != top(members[0])) disagree = true;
    }
    SelectionCandidate sc;
    sc.score = score;
    if (options.diversity) {
      auto v = image ? LoggedImageEmbedding(c.text) : backend.SentenceVector(c.text);
      if (v.ok()) sc.embedding = std::move(v).value();
    }
    pool.push_back(std::move(sc));
    distributions.push_back(std::move(p).value());
    hard.push_back(disagree);
    kept.push_back(std::move(c));
  }
  summary.pool = pool.size();
  std::mt19937_64 rng(static_cast<uint64_t>(now) ^ std::hash<std::string>{}(req.model));
  auto picked = SelectBatch(pool, options, rng);
  std::vector<LabelingTask> tasks;
  for (const SelectedItem& s : picked) {
    LabelingTask t;
    t.task_id = ids_.Next();
    t.model = mv->name;
    t.request_id = kept[s.index].request_id;
    t.text = kept[s.index].text;
    t.created_ms = now;
    t.strategy = s.strategy;
    t.score = s.score;
    t.propensity = s.propensity;
    t.suggestions_json = SuggestionsJson(distributions[s.index], labels);
    t.predicted = kept[s.index].predicted;
    t.overlap = config_.overlap;
    t.hard = hard[s.index];
    tasks.push_back(std::move(t));
  }
  auto inserted = std::make_shared<std::vector<bool>>(tasks.size(), false);
  std::promise<Status> committed;
  auto future = committed.get_future();
  auto job = [tasks, inserted](SqliteDb& db) -> Status {
    for (size_t i = 0; i < tasks.size(); ++i) {
      ASSIGN_OR_RETURN(bool added, InsertTask(db, tasks[i]));
      (*inserted)[i] = added;
    }
    return OkStatus();
  };
  if (!log_.AppendJob(std::move(job), [&committed](Status s) { committed.set_value(s); })) {
    return Unavailable("the prediction log queue is full; retry shortly");
  }
  RETURN_IF_ERROR(future.get());
  for (size_t i = 0; i < tasks.size(); ++i) {
    if ((*inserted)[i]) summary.tasks.push_back(std::move(tasks[i]));
  }
  return summary;
}

}  // namespace closedloop
