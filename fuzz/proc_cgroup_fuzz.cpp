// cpuset_cgroup_path: /proc/<pid>/cgroup, as the exclusiveCpus audit reads it to decide
// whether a process belongs to a holder's container. (find_cpuset_cgroup, the hook's
// reading of the same file with mountinfo, is the cgroup target.)
#include <optional>

#include "audit.h"
#include "fuzz.h"

namespace {

// The path of the first line "id:controllers:path" whose controllers include cpuset.
std::optional<std::string> v1_cpuset_path(const std::string& proc_cgroup) {
  for (const std::string& line : kcm_fuzz::split_lines(proc_cgroup)) {
    const std::size_t first = line.find(':');
    const std::size_t second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    const std::string controllers = "," + line.substr(first + 1, second - first - 1) + ",";
    if (controllers.find(",cpuset,") != std::string::npos) return line.substr(second + 1);
  }
  return std::nullopt;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(kcm_fuzz::as_text(data, size));
  const std::string path = kcm::cpuset_cgroup_path(text);  // never throws
  FUZZ_CHECK(path.find('\n') == std::string::npos);
  // The v1 cpuset hierarchy wins over the unified one wherever its line is.
  if (auto v1 = v1_cpuset_path(text)) {
    FUZZ_CHECK(path == *v1);
    FUZZ_CHECK(kcm::cpuset_cgroup_path("0::/elsewhere\n" + text) == *v1);
  }
  return 0;
}
