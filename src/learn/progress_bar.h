// A one-line progress bar for long trainings, redrawn in place with '\r':
//   training [##########..........]  50% epoch 25/50 loss 0.412 eta 4s
// Redraws only when the whole percentage changes (at most 101 writes per run),
// so it is cheap to call from a training callback. Finish() ends the line.
// Not thread-safe: call from one thread at a time (fastText's callback runs on
// its first training thread only). Does not own `out`.
#pragma once

#include <ostream>
#include <string>

namespace closedloop {

class ProgressBar {
 public:
  ProgressBar(std::ostream& out, std::string title, int width = 30);
  // `fraction` in [0, 1]; `detail` is appended after the percentage.
  void Update(double fraction, const std::string& detail);
  void Finish();

 private:
  std::ostream& out_;
  const std::string title_;
  const int width_;
  int last_percent_ = -1;
  bool drawn_ = false;
};

// "auto" (a bar when stderr is a terminal), "always", "never".
enum class ProgressMode { kAuto, kAlways, kNever };
bool ProgressEnabled(ProgressMode mode);

}  // namespace closedloop
