// The isolation audit of `kcm node-report` (docs/audit.md): is what else runs on the
// node kept off the exclusive CPU lists? Four checks, each in the shape of the other
// node-report checks (report.h AuditCheck): its errors, each naming a culprit.
//
//   exclusiveCpus  user-space threads allowed on a held exclusive list's CPUs that are
//                  not its holder's, one error per process: neither a holder's PID nor
//                  in a holder's cgroup (or beneath it, so a container's own children
//                  are its own). Kernel threads
//                  (PF_KTHREAD) and the auditing process itself are left out.
//   irqs           IRQs with a handler whose smp_affinity_list includes exclusive CPUs,
//                  with a hint when irqbalance runs (it would move them back).
//   kubelet        the kubelet's CPU manager state, when its policy is static: it writes
//                  its defaultCpuSet to every container it has not assigned, kcm's
//                  holders too; and each assignment that overlaps a kcm CPU list.
//   hostSlices     systemd's system.slice and init.scope allowed onto exclusive CPUs
//                  (cgroup v2 cpuset.cpus.effective), with the systemctl command fixing it.
//
// Every OS root is a parameter (the procfs root, the cgroup v2 mount, the kubelet's state
// file), so tests run the checks on fixture trees. Reads only; a process that vanishes
// during the scan is skipped. The process scan is one pass over <proc>, and the checks
// share it.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cpuset.h"
#include "pools.h"
#include "procfs.h"
#include "report.h"

namespace kcm {

// A thread of a process and the CPUs it may run on.
struct ThreadMask {
  pid_t tid = 0;
  CpuSet allowed;
};

// One process as the scan saw it.
struct ProcessInfo {
  pid_t pid = 0;
  std::string comm;            // the command name of its stat file
  std::string cgroup;          // its cpuset cgroup's path ("/" the root); "" unknown
  bool kernel_thread = false;  // PF_KTHREAD in its stat flags
  std::vector<ThreadMask> threads;
  std::string unreadable;  // why its files could not be read (EACCES, malformed); "" read
};

// The stat flag of a kernel thread (include/linux/sched.h).
inline constexpr unsigned long kPfKthread = 0x00200000;

// The cgroup that governs a process's cpuset, from the text of /proc/<pid>/cgroup: the
// path of the v1 hierarchy with the cpuset controller when there is one, else of the v2
// line ("0::<path>"); "" when neither is there.
std::string cpuset_cgroup_path(const std::string& proc_cgroup);

// The parsers of the texts the audit reads, each a pure function of one file's text so
// that the fuzzers (fuzz/README.md) and the tests reach them. Those that throw throw
// Error naming `display` (the file) and the cause.

// The command, state and flags of a /proc/<pid>/stat text. The command may hold spaces,
// parentheses and newlines: it ends at the last ')'.
struct StatFields {
  std::string comm;
  char state = '?';
  unsigned long flags = 0;
};
StatFields parse_stat_fields(const std::string& text, const std::string& display);

// The Cpus_allowed_list line of a /proc/<pid>/status (or task/<tid>/status) text.
CpuSet parse_cpus_allowed(const std::string& text, const std::string& display);

// The CPU list on the first line of a one-line kernel file (/proc/irq/<n>/
// smp_affinity_list, cpuset.cpus.effective); what follows the first newline is ignored.
CpuSet parse_cpu_list_file(const std::string& text, const std::string& display);

// IRQ number -> what the text of /proc/interrupts says after the counts (chip, hardware
// IRQ, handlers; words joined by one space). Lines without a numbered IRQ (the header,
// NMI:, LOC:, ...) are skipped. Never throws: a name is only a hint in a message.
std::map<long, std::string> parse_interrupts(const std::string& text);

// The kubelet's cpu_manager_state: its policy and, for the static policy only, every
// assignment of its entries (pod UID -> container -> CPU list). Another policy's
// entries are not read. Throws Error naming `display` when the text is not that JSON.
struct KubeletAssignment {
  std::string pod;
  std::string container;
  CpuSet cpus;
};
struct KubeletState {
  std::string policy;  // "" when absent or not a string
  CpuSet default_cpus;  // "defaultCpuSet": the cpuset of every container without an entry
  std::vector<KubeletAssignment> assignments;
};
KubeletState parse_kubelet_state(const std::string& text, const std::string& display);

// Every process of <procfs root>, sorted by PID, without zombies; for a kernel thread
// only its pid, command and flag; for one that could not be read (but did not vanish)
// only its pid and `unreadable`. Cgroup paths seen from a private cgroup namespace
// (/../../x) lose the "/.." that init's path has. Throws Error when the root cannot be
// listed.
std::vector<ProcessInfo> scan_processes(const Procfs& procfs);

// The errors a check lists at most; then "... and N more" (violations counts them all).
inline constexpr std::size_t kAuditErrorLimit = 100;

// exclusiveCpus over the held lists of the exclusive pools of `config`. `self`: the
// auditing process, left out (its own mask is whatever it was started with). Throws
// Error when it cannot judge: a holder or most processes unreadable.
AuditCheck audit_exclusive_cpus(const Config& config, const std::vector<ProcessInfo>& processes,
                                pid_t self);

// irqs over every list of the exclusive pools; reads <procfs root>/irq/<n>/ and
// <procfs root>/interrupts (the handlers' names). nullopt when there is no irq directory
// (a procfs tree without one: the check cannot be made).
std::optional<AuditCheck> audit_irqs(const Config& config, const Procfs& procfs,
                                     const std::vector<ProcessInfo>& processes);

// kubelet: reads `state_path` (the kubelet's cpu_manager_state); an absent file is no
// finding. Throws Error naming the file when it is not the kubelet's JSON.
AuditCheck audit_kubelet(const Config& config, const std::string& state_path);

// hostSlices: `cgroup_root` is the cgroup v2 mount (<sysfs>/fs/cgroup). nullopt when it
// is not a v2 tree with the cpuset controller (cgroup v1: systemd sets no AllowedCPUs).
// The CPUs of holders in a slice (`processes`: their cgroups) are left to it.
std::optional<AuditCheck> audit_host_slices(const Config& config, const std::string& cgroup_root,
                                            const std::vector<ProcessInfo>& processes);

}  // namespace kcm
