// Reconciliation: what the configuration directory and procfs say about each other
// (judge), and the repair of what holders that died without releasing left (apply).
// `kcm reconcile` judges and applies under the exclusive lock; `kcm node-report` only
// judges, under the shared lock. The documents they print are formatted by report.h.
//
// The rules (docs/design.md "Reconcile"): only a process that is provably gone (no such
// PID, a zombie) or provably another one (alive with another start time than a record
// naming it on that list says) loses its CPUs; a PID procfs cannot judge (procfs.h
// kUnknown) is kept. A task that no record names (the original format, or one written by
// hand) is judged by liveness alone.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "config_dir.h"
#include "owner.h"
#include "procfs.h"
#include "report.h"
#include "topology.h"

namespace kcm {

// A tasks file that loses tasks: its list's tasks, in file order, without them.
struct TasksRewrite {
  std::string pool;
  std::string list;
  std::vector<pid_t> tasks;
};

// What reconcile found in one snapshot of the directory, and the writes that repair it:
// one per tasks file that changes, one removal per stale record, however many tasks a
// file loses or a PID appears in.
struct Reconciliation {
  ReconcileReport report;              // reclaimed and mismatched tasks, each sorted by pid
  std::vector<TasksRewrite> rewrites;  // in pool and list order
  std::vector<Owner> stale_owners;     // records whose holder is dead or reused
};

// Which tasks are dead or reused, which live ones run on other CPUs than their list's,
// which records are stale. Reads procfs only, each PID's stat and status at most once.
Reconciliation judge_reconcile(const Config& config, const std::vector<Owner>& owners,
                               const Procfs& procfs);

// Under the caller's exclusive lock, held since `found` was judged (the rewrites replace
// whole files of that snapshot): writes each changed tasks file once, then removes the
// stale owner records. Tasks go first, as in reservation.h release().
void apply_reconcile(const ConfigDir& dir, const Reconciliation& found);

// What `kcm reconcile --repair` did to one holder whose CPU mask no longer matched.
struct MaskRepair {
  pid_t pid = 0;
  std::string pool;
  CpuSet expected;     // the union of the lists whose tasks name the PID
  CpuSet previous;     // its Cpus_allowed_list before the repair
  std::string cgroup;  // the cpuset cgroup whose cpuset.cpus was rewritten; "" when none was
  std::string error;   // why the repair failed; "" when it succeeded
};

// Under the caller's exclusive lock, after apply_reconcile: gives every task that `found`
// reports in mismatchedCpuMasks the CPUs of all the lists that name it (a holder of two
// lists runs on both, which the report counts as a mismatch for each: such a holder is
// left alone), on every one of its threads. A container's holder (a record that is not
// `isolate-<pid>`'s) whose cpuset cgroup no longer allows exactly those CPUs gets its
// cpuset.cpus rewritten first (through `mountinfo_path`); kcm isolate only ever set the
// affinity, so its cgroup is left alone. A failure is recorded in its entry, not thrown:
// one holder that cannot be repaired does not keep the others unrepaired. Sorted by PID.
std::vector<MaskRepair> repair_masks(const Config& config, const std::vector<Owner>& owners,
                                     const Reconciliation& found, const Procfs& procfs,
                                     const std::string& mountinfo_path);

// [{"cgroup"?, "cpus", "error"?, "pid", "pool", "previousCpus": [..]}]: the
// "repairedCpuMasks" of `kcm reconcile --repair` (docs/cli.md).
nlohmann::json repairs_json(const std::vector<MaskRepair>& repairs);

// What breaks the rule that an exclusive list has one holder and a holder's record and
// tasks agree: exclusive lists whose tasks name more than one process that is not
// provably gone, records of holders that are gone, records naming a list whose tasks lack
// their running holder (a writer killed mid-transaction; its retry completes it).
std::vector<std::string> ownership_errors(const Config& config, const std::vector<Owner>& owners,
                                          const Procfs& procfs);

// The node-report checks, under the caller's shared lock. configDirectory: `dir` opens
// (null when it did not) and reads, CPU lists are disjoint, pools have lists; cpus: every
// CPU of the config online (when `topology` is known); tasks: none that reconcile would
// reclaim, and owners: ownership_errors() plus misnamed records (both when `procfs` is
// given). The later checks are made only on a readable directory.
NodeReport check_node(const ConfigDir* dir, const std::string& path,
                      const std::optional<Topology>& topology, const Procfs* procfs);

}  // namespace kcm
