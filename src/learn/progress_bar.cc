#include "learn/progress_bar.h"

#include <unistd.h>

#include <algorithm>
#include <cmath>

namespace closedloop {

ProgressBar::ProgressBar(std::ostream& out, std::string title, int width)
    : out_(out), title_(std::move(title)), width_(width) {}

void ProgressBar::Update(double fraction, const std::string& detail) {
  fraction = std::clamp(std::isfinite(fraction) ? fraction : 0.0, 0.0, 1.0);
  int percent = static_cast<int>(fraction * 100);
  if (percent == last_percent_) return;
  last_percent_ = percent;
  int filled = static_cast<int>(fraction * width_);
  std::string bar(static_cast<size_t>(filled), '#');
  bar.append(static_cast<size_t>(width_ - filled), '.');
  out_ << '\r' << title_ << " [" << bar << "] "
       << (percent < 10    ? "  "
           : percent < 100 ? " "
                           : "")
       << percent << "% " << detail << "\x1b[K" << std::flush;
  drawn_ = true;
}

void ProgressBar::Finish() {
  if (drawn_) out_ << '\n' << std::flush;
  drawn_ = false;
  last_percent_ = -1;
}

bool ProgressEnabled(ProgressMode mode) {
  switch (mode) {
    case ProgressMode::kAlways:
      return true;
    case ProgressMode::kNever:
      return false;
    case ProgressMode::kAuto:
      break;
  }
  return isatty(STDERR_FILENO) == 1;
}

}  // namespace closedloop
