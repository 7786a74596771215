// parse_tasks: a pool list's tasks file ("", "2000,2001\n"), written by kcm and by the
// original Intel CMK, read on every hook and reconcile.
#include <optional>

#include "error.h"
#include "fuzz.h"
#include "pools.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(kcm_fuzz::as_text(data, size));
  std::optional<std::vector<pid_t>> parsed;
  try {
    parsed = kcm::parse_tasks(text, "/etc/kcm/pools/dataplane/4,12/tasks");
  } catch (const kcm::Error&) {
    return 0;
  }
  for (pid_t pid : *parsed) FUZZ_CHECK(pid > 0);
  // What kcm writes reads back the same, with or without the newline people add.
  const std::string formatted = kcm::format_tasks(*parsed);
  FUZZ_CHECK(kcm::parse_tasks(formatted, "formatted") == *parsed);
  FUZZ_CHECK(kcm::parse_tasks(formatted + "\n", "formatted") == *parsed);
  FUZZ_CHECK(kcm::format_tasks(kcm::parse_tasks(formatted, "formatted")) == formatted);
  return 0;
}
