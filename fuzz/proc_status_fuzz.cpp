// parse_cpus_allowed: the Cpus_allowed_list line of /proc/<pid>/status (and of each
// task/<tid>/status), which the exclusiveCpus audit reads for every thread of the node.
#include <optional>

#include "audit.h"
#include "error.h"
#include "fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(kcm_fuzz::as_text(data, size));
  std::optional<kcm::CpuSet> cpus;
  try {
    cpus = kcm::parse_cpus_allowed(text, "/proc/4242/status");
  } catch (const kcm::Error&) {
    return 0;
  }
  // The key counts only where it starts a line: a Name line (the command, chosen by the
  // process) that holds it changes nothing.
  const std::string named = "Name:\tx Cpus_allowed_list:\t9999\n" + text;
  FUZZ_CHECK(kcm::parse_cpus_allowed(named, "named") == *cpus);
  // The canonical line reads the same.
  const std::string line = "Cpus_allowed:\tff\nCpus_allowed_list:\t" + cpus->to_string() + "\n";
  FUZZ_CHECK(kcm::parse_cpus_allowed(line, "canonical") == *cpus);
  return 0;
}
