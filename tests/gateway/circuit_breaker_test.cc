// The circuit breaker's state machine on an injected clock: both ways of
// opening, the open period, one probe at a time in half-open, exponential
// backoff while probes fail, closing after successes, late results ignored.
#include "gateway/circuit_breaker.h"

#include <gtest/gtest.h>

#include <vector>

namespace closedloop {
namespace {

using State = CircuitBreaker::State;
using Ticket = CircuitBreaker::Ticket;
using std::chrono::milliseconds;

CircuitBreakerOptions Options() {
  CircuitBreakerOptions o;
  o.consecutive_failures = 3;
  o.failure_rate = 0.5;
  o.min_requests = 10;
  o.window = milliseconds(10000);
  o.open = milliseconds(100);
  o.max_open = milliseconds(400);
  o.close_successes = 2;
  return o;
}

void Try(CircuitBreaker& b, bool ok) {
  Ticket t = b.Allow();
  ASSERT_EQ(t, Ticket::kAllowed);
  b.Record(t, ok);
}

TEST(CircuitBreakerTest, OpensAfterConsecutiveFailuresAndRejectsWhileOpen) {
  FakeClock clock;
  std::vector<std::pair<State, State>> changes;
  CircuitBreaker b(Options(), clock, [&](State from, State to) { changes.push_back({from, to}); });
  Try(b, false);
  Try(b, false);
  Try(b, true);  // a success ends the run
  Try(b, false);
  Try(b, false);
  EXPECT_EQ(b.state(), State::kClosed);
  Try(b, false);
  EXPECT_EQ(b.state(), State::kOpen);
  ASSERT_EQ(changes.size(), 1u);
  EXPECT_EQ(changes[0], std::make_pair(State::kClosed, State::kOpen));
  clock.Advance(milliseconds(99));
  EXPECT_EQ(b.Allow(), Ticket::kRejected);
}

TEST(CircuitBreakerTest, OpensOnTheFailureRateOverTheWindow) {
  FakeClock clock;
  CircuitBreaker b(Options(), clock);
  // Alternating results never make 3 failures in a row, but half of them fail.
  for (int i = 0; i < 9; ++i) Try(b, i % 2 == 0);
  EXPECT_EQ(b.state(), State::kClosed);  // 9 < min_requests
  Try(b, false);                         // 10 requests, 5 failures
  EXPECT_EQ(b.state(), State::kOpen);
}

TEST(CircuitBreakerTest, OldFailuresLeaveTheWindow) {
  FakeClock clock;
  CircuitBreaker b(Options(), clock);
  for (int i = 0; i < 8; ++i) Try(b, i % 2 == 0);  // 4 failures
  clock.Advance(milliseconds(11000));              // out of the 10 s window
  for (int i = 0; i < 8; ++i) Try(b, i % 4 != 0);  // 2 failures of 8
  Try(b, false);
  Try(b, true);  // 10 requests in the window, 3 failed: under 0.5
  EXPECT_EQ(b.state(), State::kClosed);
}

TEST(CircuitBreakerTest, HalfOpenLetsOneProbeThroughAndClosesAfterSuccesses) {
  FakeClock clock;
  CircuitBreaker b(Options(), clock);
  for (int i = 0; i < 3; ++i) Try(b, false);
  ASSERT_EQ(b.state(), State::kOpen);
  clock.Advance(milliseconds(100));
  Ticket probe = b.Allow();
  EXPECT_EQ(probe, Ticket::kProbe);
  EXPECT_EQ(b.state(), State::kHalfOpen);
  EXPECT_EQ(b.Allow(), Ticket::kRejected);  // one probe at a time
  b.Record(probe, true);
  EXPECT_EQ(b.state(), State::kHalfOpen);  // 1 of 2 successes
  probe = b.Allow();
  ASSERT_EQ(probe, Ticket::kProbe);
  b.Record(probe, true);
  EXPECT_EQ(b.state(), State::kClosed);
  EXPECT_EQ(b.Allow(), Ticket::kAllowed);
  // Closed afresh: the old failures do not count.
  Try(b, false);
  Try(b, false);
  EXPECT_EQ(b.state(), State::kClosed);
}

TEST(CircuitBreakerTest, FailedProbesBackOffExponentiallyUpToTheMaximum) {
  FakeClock clock;
  CircuitBreaker b(Options(), clock);
  for (int i = 0; i < 3; ++i) Try(b, false);
  std::vector<int64_t> periods;
  for (int round = 0; round < 4; ++round) {
    const auto period = b.open_period();
    periods.push_back(period.count());
    clock.Advance(period - milliseconds(1));
    EXPECT_EQ(b.Allow(), Ticket::kRejected) << "round " << round;
    clock.Advance(milliseconds(1));
    Ticket probe = b.Allow();
    ASSERT_EQ(probe, Ticket::kProbe) << "round " << round;
    b.Record(probe, false);
    EXPECT_EQ(b.state(), State::kOpen);
  }
  EXPECT_EQ(periods, (std::vector<int64_t>{100, 200, 400, 400}));
  // A success after the backoff resets it to the first period once closed.
  clock.Advance(milliseconds(400));
  for (int i = 0; i < 2; ++i) {
    Ticket probe = b.Allow();
    ASSERT_EQ(probe, Ticket::kProbe);
    b.Record(probe, true);
  }
  EXPECT_EQ(b.state(), State::kClosed);
  EXPECT_EQ(b.open_period().count(), 100);
}

TEST(CircuitBreakerTest, ResultsOfTriesStartedBeforeOpeningAreIgnored) {
  FakeClock clock;
  CircuitBreaker b(Options(), clock);
  std::vector<Ticket> in_flight;
  for (int i = 0; i < 5; ++i) in_flight.push_back(b.Allow());
  for (int i = 0; i < 3; ++i) b.Record(in_flight[static_cast<size_t>(i)], false);
  ASSERT_EQ(b.state(), State::kOpen);
  b.Record(in_flight[3], true);  // late: neither closes nor counts
  b.Record(in_flight[4], false);
  EXPECT_EQ(b.state(), State::kOpen);
  EXPECT_EQ(b.open_period().count(), 100);
}

}  // namespace
}  // namespace closedloop
