#include "interval.h"

#include <gtest/gtest.h>
#include <pthread.h>

#include <csignal>
#include <stdexcept>
#include <string>
#include <vector>

#include "error.h"

namespace kcm {
namespace {

using std::chrono::seconds;

TEST(IntervalTest, ParsesWholeSecondsFromOne) {
  EXPECT_EQ(parse_interval("--interval", "1"), seconds(1));
  EXPECT_EQ(parse_interval("--interval", "60"), seconds(60));
  EXPECT_EQ(parse_interval("--interval", "2147483647"), seconds(2147483647));
}

TEST(IntervalTest, RefusesAnythingElseAsAUsageErrorNamingOptionAndValue) {
  for (const char* bad : {"", "0", "-1", "+1", " 1", "1 ", "1.5", "1s", "abc", "2147483648",
                          "99999999999999999999"}) {
    try {
      parse_interval("--interval", bad);
      ADD_FAILURE() << "accepted " << bad;
    } catch (const Error& e) {
      EXPECT_TRUE(e.is_usage());
      EXPECT_EQ(std::string(e.what()), "option --interval=" + quote(bad) +
                                           ": not a whole number of seconds from 1 to "
                                           "2147483647");
    }
  }
}

bool term_blocked() {
  sigset_t now;
  pthread_sigmask(SIG_SETMASK, nullptr, &now);
  return sigismember(&now, SIGTERM) == 1;
}

// A SIGTERM raised during a round waits for the round's end, then ends the loop without
// waiting the period; the mask is restored afterwards.
TEST(IntervalTest, AStopSignalDuringARoundEndsTheLoopAfterIt) {
  int rounds = 0;
  bool finished = false;
  const auto started = std::chrono::steady_clock::now();
  repeat_until_stopped(
      seconds(30),
      [&] {
        ++rounds;
        EXPECT_TRUE(term_blocked());
        ASSERT_EQ(raise(SIGTERM), 0);
        finished = true;
      },
      [](const std::string& message) { ADD_FAILURE() << message; });
  EXPECT_EQ(rounds, 1);
  EXPECT_TRUE(finished);
  EXPECT_LT(std::chrono::steady_clock::now() - started, seconds(5));
  EXPECT_FALSE(term_blocked());
}

TEST(IntervalTest, AFailedRoundIsReportedAndTheLoopGoesOn) {
  std::vector<std::string> failures;
  int rounds = 0;
  repeat_until_stopped(
      seconds(1),
      [&] {
        if (++rounds == 1) throw Error("read \"x\": broken");
        if (rounds == 2) throw std::runtime_error("other");
        ASSERT_EQ(raise(SIGINT), 0);
      },
      [&](const std::string& message) { failures.push_back(message); });
  EXPECT_EQ(rounds, 3);
  EXPECT_EQ(failures, (std::vector<std::string>{"read \"x\": broken", "other"}));
}

TEST(IntervalTest, AUsageErrorEndsTheLoop) {
  int rounds = 0;
  EXPECT_THROW(repeat_until_stopped(
                   seconds(1),
                   [&] {
                     ++rounds;
                     throw usage_error("bad");
                   },
                   [](const std::string& message) { ADD_FAILURE() << message; }),
               Error);
  EXPECT_EQ(rounds, 1);
  EXPECT_FALSE(term_blocked());
}

TEST(IntervalTest, AbandonableOutsideALoopLeavesTheSignalsAlone) {
  {
    AbandonableOnStop nothing;
    EXPECT_FALSE(term_blocked());
  }
  EXPECT_FALSE(term_blocked());
}

// Inside a loop, a signal pending when the abandonable part begins ends the process
// with exit 0 at once.
TEST(IntervalDeathTest, APendingSignalEndsTheAbandonablePartWithExitZero) {
  EXPECT_EXIT(repeat_until_stopped(
                  seconds(1),
                  [] {
                    ASSERT_EQ(raise(SIGTERM), 0);
                    AbandonableOnStop publishing;
                    std::abort();  // never reached
                  },
                  [](const std::string&) {}),
              testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace kcm
