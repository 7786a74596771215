// The JSON documents of `kcm describe`, `kcm reconcile` and `kcm node-report`, in the
// shapes of the CLI contract, docs/cli.md (keys sorted, 2-space indent, trailing newline).
//
// Pure: these functions format values they are given. What the values are (which tasks
// are dead, which checks fail) is judged from the directory and procfs in reconcile.h.
#pragma once

#include <sys/types.h>

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "config_dir.h"
#include "cpuset.h"

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

// The values of the reconcile document.
struct ReconcileReport {
  std::vector<ReclaimedTask> reclaimed;  // dead, or reused (start time differs from record)
  std::vector<MismatchedTask> mismatched;
};

// {"mismatchedCpuMasks": [{"actualCpus": [..], "cpus", "pid", "pool"}],
//  "reclaimedCpuLists": [{"cpus", "pid", "pool"}]}, in the order given (reconcile.h
// gives them sorted by pid).
nlohmann::json reconcile_json(const ReconcileReport& report);

// One isolation-audit check's findings (audit.h). `violations` counts the errors that
// are findings; the others are hints about them (irqbalance running).
struct AuditCheck {
  std::vector<std::string> errors;
  std::size_t violations = 0;
};

// The values of the node-report document: each check's errors, a check that could not
// be made (no topology, no procfs) left out.
struct NodeReport {
  std::string path;              // the configuration directory as the user named it
  std::optional<Config> config;  // nullopt when unreadable: the description is null
  std::vector<std::string> config_errors;
  std::optional<std::vector<std::string>> cpu_errors;
  std::optional<std::vector<std::string>> task_errors;
  std::optional<std::vector<std::string>> owner_errors;
  // The isolation audit (audit.h, docs/audit.md), made on a readable directory.
  std::optional<AuditCheck> exclusive_cpus;
  std::optional<AuditCheck> irqs;
  std::optional<AuditCheck> kubelet;
  std::optional<AuditCheck> host_slices;
  // When `kcm reconcile` last finished a round (reconcile_stamp.h), in seconds since the
  // epoch: a metric (metrics.h), not part of the JSON document.
  std::optional<std::int64_t> last_reconcile;
};

// {"checks": {"configDirectory": {"errors": [...], "ok": bool}, "cpus", "tasks",
// "owners", "exclusiveCpus", "irqs", "kubelet", "hostSlices"}, "description": <describe
// document or null>}
nlohmann::json node_report_json(const NodeReport& report);

}  // namespace kcm
