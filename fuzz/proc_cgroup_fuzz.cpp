// cpuset_cgroup_path: /proc/<pid>/cgroup, as the exclusiveCpus audit reads it to decide
// whether a process belongs to a holder's container. (find_cpuset_cgroup, the hook's
// reading of the same file with mountinfo, is the cgroup target.)
#include <optional>

#include "audit.h"
#include "fuzz.h"
#include "report.h"

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

// The exclusiveCpus message naming a process with this cgroup, as the report's JSON
// writer writes it: it must not refuse it (a name that is not UTF-8 once failed the
// whole node-report).
void report_names(const std::string& cgroup) {
  kcm::Config config;
  kcm::Pool pool{"dataplane", true, {}};
  pool.lists.emplace("0", kcm::CpuList{"0", kcm::CpuSet::parse("0"), {1}});
  config.pools.emplace("dataplane", pool);
  kcm::ProcessInfo p;
  p.pid = 4242;
  p.cgroup = cgroup;
  p.threads.push_back({4242, kcm::CpuSet::parse("0")});
  kcm::NodeReport report;
  report.exclusive_cpus = kcm::audit_exclusive_cpus(config, {p}, 0);
  FUZZ_CHECK(report.exclusive_cpus->errors.size() == 1);
  (void)kcm::to_document(kcm::node_report_json(report));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(kcm_fuzz::as_text(data, size));
  const std::string path = kcm::cpuset_cgroup_path(text);  // never throws
  FUZZ_CHECK(path.find('\n') == std::string::npos);
  report_names(path);
  // The v1 cpuset hierarchy wins over the unified one wherever its line is.
  if (auto v1 = v1_cpuset_path(text)) {
    FUZZ_CHECK(path == *v1);
    FUZZ_CHECK(kcm::cpuset_cgroup_path("0::/elsewhere\n" + text) == *v1);
  }
  return 0;
}
