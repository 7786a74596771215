// parse_stat_fields: command, state and flags (PF_KTHREAD) of /proc/<pid>/stat, as the
// audit's process scan reads them. The command name is chosen by the process itself and
// may hold spaces, parentheses and newlines. (parse_proc_stat, the start time, is the
// proc_stat target.)
#include <optional>

#include "audit.h"
#include "error.h"
#include "fuzz.h"
#include "report.h"

namespace {

// The exclusiveCpus message naming a process with this comm, as the report's JSON
// writer writes it: it must not refuse it (a name that is not UTF-8 once failed the
// whole node-report).
void report_names(const std::string& comm) {
  kcm::Config config;
  kcm::Pool pool{"dataplane", true, {}};
  pool.lists.emplace("0", kcm::CpuList{"0", kcm::CpuSet::parse("0"), {1}});
  config.pools.emplace("dataplane", pool);
  kcm::ProcessInfo p;
  p.pid = 4242;
  p.comm = comm;
  p.threads.push_back({4242, kcm::CpuSet::parse("0")});
  kcm::NodeReport report;
  report.exclusive_cpus = kcm::audit_exclusive_cpus(config, {p}, 0);
  FUZZ_CHECK(report.exclusive_cpus->errors.size() == 1);
  (void)kcm::to_document(kcm::node_report_json(report));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(kcm_fuzz::as_text(data, size));
  std::optional<kcm::StatFields> fields;
  try {
    fields = kcm::parse_stat_fields(text, "/proc/4242/stat");
  } catch (const kcm::Error&) {
    return 0;
  }
  // The command is what lies between the first '(' and the last ')'.
  const std::size_t open = text.find('(');
  const std::size_t close = text.rfind(')');
  FUZZ_CHECK(open != std::string::npos && close != std::string::npos && open <= close);
  FUZZ_CHECK(fields->comm == text.substr(open + 1, close - open - 1));
  report_names(fields->comm);

  // A hostile command name holding ") (", digits and a fake kernel-thread flag changes
  // neither the state nor the flags.
  const std::string hostile = "4242 (x) S 1 2 3 4 5 2097152 (y)" + text.substr(close + 1);
  const kcm::StatFields again = kcm::parse_stat_fields(hostile, "rebuilt");
  FUZZ_CHECK(again.state == fields->state);
  FUZZ_CHECK(again.flags == fields->flags);
  FUZZ_CHECK(again.comm == "x) S 1 2 3 4 5 2097152 (y");
  return 0;
}
