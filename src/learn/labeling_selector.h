// LabelingSelector: fills a model's labeling queue from its live traffic.
//
// One selection reads the model's newest predictions that have their text
// (prediction_log.store_inputs), were not escalated (people see those anyway) and
// are not queued yet (at most labeling.candidate_window, one per distinct text),
// scores each with the model that serves by default now — its full distribution,
// its ensemble members and every other loaded version as the committee for qbc,
// its sentence vector for diversity — and queues a batch (learn/batch_selection.h)
// within the model's hourly and daily budgets. Tasks whose committee's top labels
// disagree are marked hard (routed to annotators with a higher measured accuracy).
//
// Every labeling.interval_ms the configured model is selected from; Select() also
// runs one on request. All selections run on the selector's own thread, one at a
// time, so budgets are never overrun by two at once.
// Thread safety: SelectAsync/Select from any thread; Start/Stop from one thread.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "core/clock.h"
#include "core/config.h"
#include "core/status.h"
#include "core/ulid.h"
#include "learn/uncertainty_sampling.h"
#include "serving/model_repository.h"
#include "store/annotation_store.h"
#include "store/prediction_log.h"

namespace closedloop {

struct SelectionRequest {
  std::string model;
  std::optional<SelectionStrategy> strategy;  // else labeling.strategy
  std::optional<int64_t> batch;               // else labeling.batch
  std::optional<double> random_share;
  std::optional<bool> diversity;
};

struct SelectionSummary {
  std::string model, version, strategy;
  size_t pool = 0;                  // candidates scored
  size_t committee = 0;             // members of the qbc committee (0: not qbc)
  int64_t budget_left = -1;         // before this selection; -1: no budget
  std::vector<LabelingTask> tasks;  // queued now
  std::string note;                 // why fewer than asked, when so
};

class LabelingSelector {
 public:
  LabelingSelector(const LabelingConfig& config, const ModelRepository& models, PredictionLog& log,
                   const Clock& clock);
  ~LabelingSelector();

  // Runs one selection on the selector's thread; `done` is called there with the result.
  void SelectAsync(SelectionRequest request, std::function<void(StatusOr<SelectionSummary>)> done);
  // Runs one selection on the calling thread (tests, the CLI; not from io threads).
  StatusOr<SelectionSummary> Select(const SelectionRequest& request);

  void Start();  // the thread, and the periodic selection when labeling.model is set
  void Stop();   // waits for a selection in progress

 private:
  void Loop();

  const LabelingConfig config_;
  const ModelRepository& models_;
  PredictionLog& log_;
  const Clock& clock_;
  UlidGenerator ids_;

  std::mutex mu_;  // guards the fields below
  std::condition_variable wake_;
  std::deque<std::pair<SelectionRequest, std::function<void(StatusOr<SelectionSummary>)>>> queue_;
  bool stop_ = false;
  std::thread thread_;
};

}  // namespace closedloop
