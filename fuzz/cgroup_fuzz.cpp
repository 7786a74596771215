// find_cpuset_cgroup: /proc/<pid>/cgroup and /proc/self/mountinfo, which decide the
// directory whose cpuset.cpus kcm-hook writes. Input: the cgroup text, a NUL, the
// mountinfo text (no NUL: both empty-ish).
#include <optional>

#include "cgroup.h"
#include "error.h"
#include "fuzz.h"

namespace {

// Whether a line "id:controllers:path" names cpuset among its controllers.
bool lists_v1_cpuset(const std::string& proc_cgroup) {
  for (const std::string& line : kcm_fuzz::split_lines(proc_cgroup)) {
    const std::size_t first = line.find(':');
    const std::size_t second = first == std::string::npos ? first : line.find(':', first + 1);
    if (second == std::string::npos) continue;
    const std::string controllers = "," + line.substr(first + 1, second - first - 1) + ",";
    if (controllers.find(",cpuset,") != std::string::npos) return true;
  }
  return false;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = kcm_fuzz::as_text(data, size);
  const std::size_t nul = text.find('\0');
  const std::string proc_cgroup(text.substr(0, nul));
  const std::string mountinfo(nul == std::string_view::npos ? std::string_view()
                                                            : text.substr(nul + 1));
  std::optional<kcm::CpusetCgroup> cgroup;
  try {
    cgroup = kcm::find_cpuset_cgroup(proc_cgroup, mountinfo, "/proc/4242/cgroup");
  } catch (const kcm::Error&) {
    return 0;
  }
  if (!cgroup) return 0;  // the root cgroup
  FUZZ_CHECK(!cgroup->dir.empty());
  // v2 is chosen only when no v1 cpuset hierarchy is listed.
  if (cgroup->v2) FUZZ_CHECK(!lists_v1_cpuset(proc_cgroup));
  // Deterministic: the same texts give the same answer.
  const auto again = kcm::find_cpuset_cgroup(proc_cgroup, mountinfo, "again");
  FUZZ_CHECK(again && again->dir == cgroup->dir && again->v2 == cgroup->v2);
  return 0;
}
