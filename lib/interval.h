// The long-running modes of `kcm reconcile --interval` and `kcm node-report --interval`
// (docs/cli.md): one round every N seconds until SIGTERM or SIGINT, then a clean exit.
//
// A stop signal never cuts a round in the middle of its work on the configuration
// directory: while the loop runs, SIGTERM and SIGINT are blocked, so a signal that arrives
// during a round stays pending until the round is over, and the wait between rounds takes
// it (sigtimedwait) and ends the loop. The part of a round that has nothing local left to
// protect (the directory's lock released, the document printed and flushed: publishing it)
// may declare itself abandonable (AbandonableOnStop): a stop signal there, or one already
// pending, ends the process at once with exit 0, so that an API server that keeps failing
// does not hold up a pod's termination for the whole of the client's retries.
//
// Single-threaded use, from main's thread; one loop at a time.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>

namespace kcm {

// The value of `--interval` (`option` names the flag in the message): a whole number of
// seconds from 1 to kMaxIntervalSeconds, plain decimal digits. Throws a usage Error
// naming the option and the value otherwise.
inline constexpr long kMaxIntervalSeconds = 2147483647;
std::chrono::seconds parse_interval(std::string_view option, std::string_view text);

// How a failed round is reported: kcm passes one that prints the CLI's error line.
using RoundFailure = std::function<void(const std::string& message)>;

// Runs `round`, then waits `period`, again and again, until SIGTERM or SIGINT; returns
// when one arrives (between rounds, or pending at the end of a round). A round that
// throws is reported through `failed` (the exception's message) and the loop goes on,
// except for a usage Error, which no later round can fix: that one is rethrown. Blocks
// SIGTERM and SIGINT for the duration and restores the signal mask and handlers after.
void repeat_until_stopped(std::chrono::seconds period, const std::function<void()>& round,
                          const RoundFailure& failed);

// While one exists inside repeat_until_stopped, a stop signal ends the process with
// exit 0 (see above). Outside a loop it does nothing: the signals keep their default
// action. Not nestable.
class AbandonableOnStop {
 public:
  AbandonableOnStop();
  ~AbandonableOnStop();
  AbandonableOnStop(const AbandonableOnStop&) = delete;
  AbandonableOnStop& operator=(const AbandonableOnStop&) = delete;

 private:
  bool active_;
};

}  // namespace kcm
