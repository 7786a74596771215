// parse_proc_stat: /proc/<pid>/stat, whose command name (field 2) is chosen by the
// process itself and may hold spaces, parentheses and newlines.
#include <optional>

#include "error.h"
#include "fuzz.h"
#include "procfs.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(kcm_fuzz::as_text(data, size));
  std::optional<kcm::ProcStat> parsed;
  try {
    parsed = kcm::parse_proc_stat(text, "/proc/4242/stat");
  } catch (const kcm::Error&) {
    return 0;
  }
  FUZZ_CHECK(parsed->pid > 0);

  // Whatever the input's fields are, a command name holding ") (" and digits cannot
  // change what is read: rebuild the line around a hostile name and compare.
  const std::size_t close = text.rfind(')');
  FUZZ_CHECK(close != std::string::npos);
  const std::string hostile = std::to_string(parsed->pid) + " (x) 1 2 3 (y) R" + text.substr(close);
  const kcm::ProcStat again = kcm::parse_proc_stat(hostile, "rebuilt");
  FUZZ_CHECK(again.pid == parsed->pid);
  FUZZ_CHECK(again.state == parsed->state);
  FUZZ_CHECK(again.start_time == parsed->start_time);
  return 0;
}
