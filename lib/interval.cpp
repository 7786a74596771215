#include "interval.h"

#include <pthread.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <csignal>
#include <ctime>

#include "error.h"

namespace kcm {
namespace {

// Set while repeat_until_stopped runs, and inside an AbandonableOnStop within it. Only
// the handler and main's thread touch them.
volatile std::sig_atomic_t g_looping = 0;
volatile std::sig_atomic_t g_abandonable = 0;
// A stop signal the handler took outside an abandonable part (a thread of a library,
// created while the signals were unblocked, may still have them unblocked).
volatile std::sig_atomic_t g_stop_seen = 0;

sigset_t stop_signals() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  return set;
}

void on_stop_signal(int) {
  // Only async-signal-safe work: the abandonable part has nothing to finish.
  if (g_abandonable) _exit(0);
  g_stop_seen = 1;
}

void set_mask(int how) {
  const sigset_t set = stop_signals();
  if (int err = pthread_sigmask(how, &set, nullptr); err != 0) {
    throw sys_error("set the signal mask", "SIGTERM and SIGINT", err);
  }
}

// Waits up to `period` for SIGTERM or SIGINT; true when one came.
bool wait_for_stop(std::chrono::seconds period) {
  const sigset_t set = stop_signals();
  const auto deadline = std::chrono::steady_clock::now() + period;
  while (!g_stop_seen) {
    const auto left = deadline - std::chrono::steady_clock::now();
    if (left <= std::chrono::steady_clock::duration::zero()) return false;
    const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(left).count();
    const timespec timeout{static_cast<time_t>(ns / 1000000000),
                           static_cast<long>(ns % 1000000000)};
    if (sigtimedwait(&set, nullptr, &timeout) >= 0) return true;
    if (errno == EAGAIN) return false;
    if (errno != EINTR) throw sys_error("wait for", "SIGTERM and SIGINT", errno);
  }
  return true;
}

// Restores the handlers and the mask on every way out of the loop.
class LoopSignals {
 public:
  LoopSignals() {
    // Cleared before the handler goes in: a signal from then on is kept, not wiped.
    g_stop_seen = 0;
    struct sigaction action {};
    action.sa_handler = on_stop_signal;
    sigemptyset(&action.sa_mask);
    sigaction(SIGTERM, &action, &old_term_);
    sigaction(SIGINT, &action, &old_int_);
    pthread_sigmask(SIG_SETMASK, nullptr, &old_mask_);
    set_mask(SIG_BLOCK);
    g_looping = 1;
  }
  ~LoopSignals() {
    g_looping = 0;
    pthread_sigmask(SIG_SETMASK, &old_mask_, nullptr);
    sigaction(SIGTERM, &old_term_, nullptr);
    sigaction(SIGINT, &old_int_, nullptr);
  }
  LoopSignals(const LoopSignals&) = delete;
  LoopSignals& operator=(const LoopSignals&) = delete;

 private:
  struct sigaction old_term_ {};
  struct sigaction old_int_ {};
  sigset_t old_mask_{};
};

}  // namespace

std::chrono::seconds parse_interval(std::string_view option, std::string_view text) {
  long seconds = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, seconds);
  // from_chars takes a leading '-'; only plain decimal digits are a number of seconds.
  if (text.empty() || text[0] == '-' || ec != std::errc() || ptr != end || seconds < 1 ||
      seconds > kMaxIntervalSeconds) {
    throw usage_error("option " + std::string(option) + "=" + quote(text) +
                      ": not a whole number of seconds from 1 to " +
                      std::to_string(kMaxIntervalSeconds));
  }
  return std::chrono::seconds(seconds);
}

void repeat_until_stopped(std::chrono::seconds period, const std::function<void()>& round,
                          const RoundFailure& failed) {
  LoopSignals signals;
  do {
    try {
      round();
    } catch (const Error& e) {
      if (e.is_usage()) throw;
      failed(e.what());
    } catch (const std::exception& e) {
      failed(e.what());
    }
  } while (!wait_for_stop(period));
}

AbandonableOnStop::AbandonableOnStop() : active_(g_looping != 0) {
  if (!active_) return;
  if (g_stop_seen) _exit(0);
  g_abandonable = 1;
  // A signal pending since the round began is delivered here, and ends the process.
  set_mask(SIG_UNBLOCK);
}

AbandonableOnStop::~AbandonableOnStop() {
  if (!active_) return;
  // Block first: a signal from now on waits for the end of the round.
  const sigset_t set = stop_signals();
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  g_abandonable = 0;
}

}  // namespace kcm
