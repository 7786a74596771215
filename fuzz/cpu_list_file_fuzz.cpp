// parse_cpu_list_file: one-line kernel files holding a CPU list, read by node-report's
// audit: /proc/irq/<n>/smp_affinity_list and cgroup v2 cpuset.cpus.effective.
#include <optional>

#include "audit.h"
#include "error.h"
#include "fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(kcm_fuzz::as_text(data, size));
  std::optional<kcm::CpuSet> cpus;
  try {
    cpus = kcm::parse_cpu_list_file(text, "/proc/irq/24/smp_affinity_list");
  } catch (const kcm::Error&) {
    return 0;
  }
  // The first line is the list; whatever follows it changes nothing.
  const std::size_t newline = text.find('\n');
  FUZZ_CHECK(kcm::CpuSet::parse(text.substr(0, newline)) == *cpus);
  FUZZ_CHECK(kcm::parse_cpu_list_file(text + "\n\x01garbage", "again") == *cpus);
  FUZZ_CHECK(kcm::parse_cpu_list_file(cpus->to_string() + "\n", "canonical") == *cpus);
  return 0;
}
