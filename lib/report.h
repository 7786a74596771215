// The JSON documents of `kcm describe`, `kcm reconcile` and `kcm node-report`, in the
// shapes of the CLI contract, docs/cli.md (keys sorted, 2-space indent, trailing newline), and
// the reconciliation that goes with the reconcile report.
#pragma once

#include <sys/types.h>

#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "config_dir.h"
#include "procfs.h"
#include "topology.h"

namespace kcm {

// Serializes like Python's json.dumps(sort_keys=True, indent=2) plus a newline.
std::string to_document(const nlohmann::json& j);

// {"path": ..., "pools": {<name>: {"cpuLists": {<list>: {"cpus", "tasks"}}, "exclusive",
// "name"}}}
nlohmann::json describe_json(const std::string& path, const Config& config);

struct ReclaimedTask {
  pid_t pid = 0;
  std::string pool;
  std::string cpus;  // the list's name
};

struct MismatchedTask {
  pid_t pid = 0;
  std::string pool;
  std::string cpus;
  CpuSet actual;  // its Cpus_allowed_list
};

struct ReconcileReport {
  std::vector<ReclaimedTask> reclaimed;  // dead, or reused (start time differs from record)
  std::vector<MismatchedTask> mismatched;
  std::vector<Owner> stale_owners;  // records whose holder is dead or reused
};

// Pure but for procfs reads: which tasks are dead or reused, which live ones run on other
// CPUs than their list's.
ReconcileReport build_reconcile_report(const Config& config, const std::vector<Owner>& owners,
                                       const Procfs& procfs);

// What breaks the rule that an exclusive list has one holder and a holder's record and
// tasks agree: exclusive lists whose tasks name more than one process that is not
// provably gone, records of holders that are gone, records naming a list whose tasks lack
// their running holder (a writer killed mid-transaction; its retry completes it).
std::vector<std::string> ownership_errors(const Config& config, const std::vector<Owner>& owners,
                                          const Procfs& procfs);

// {"mismatchedCpuMasks": [{"actualCpus": [..], "cpus", "pid", "pool"}],
//  "reclaimedCpuLists": [{"cpus", "pid", "pool"}]}, each sorted by pid.
nlohmann::json reconcile_json(const ReconcileReport& report);

// Under the caller's exclusive lock: removes reclaimed tasks and stale owner records.
void apply_reconcile(const ConfigDir& dir, const ReconcileReport& report);

// {"checks": {"configDirectory": {"errors": [...], "ok": bool}, ...}, "description": ...}
// configDirectory: readable, CPU lists disjoint, pools with lists; cpus: every CPU in the
// config online (when topology is known); tasks: none that reconcile would reclaim, and
// owners: ownership_errors() (both when procfs is given). `description` is the describe document,
// null when unreadable.
nlohmann::json node_report_json(const ConfigDir* dir, const std::string& path,
                                const std::optional<Topology>& topology, const Procfs* procfs);

}  // namespace kcm
