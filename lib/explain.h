// Why a holder has its CPUs, and whether it still runs on them: the reason an allocation
// records in its owner record (reservation.h reserve writes it), and the document of
// `kcm describe --owner` (docs/cli.md "describe --owner").
#pragma once

#include <sys/types.h>

#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "allocator.h"
#include "config_dir.h"
#include "cpuset.h"
#include "owner.h"
#include "procfs.h"

namespace kcm {

// The reason of `choice`, whose lists hold `cpus`. The NUMA nodes come from the choice
// when it read the node map (more than one list), else from nodes_of_cpus (topology.h);
// isolation from cpu/isolated. Those two small reads are all it adds to an allocation,
// and they cannot fail it: what sysfs does not say is left empty (nodes) or false.
AllocationReason allocation_reason(const Choice& choice, const CpuSet& cpus,
                                   const std::string& sysfs_root);

// One holder as `kcm describe --owner` shows it.
struct OwnerDescription {
  Owner record;
  // The recorded lists that exist in the record's pool, and their CPUs; the union of them
  // is the mask the holder's threads should have.
  std::map<std::string, CpuSet> lists;
  CpuSet cpus;
  bool running = false;  // the record's PID runs, with the recorded start time
  struct Thread {
    pid_t tid = 0;
    std::optional<CpuSet> cpus;  // nullopt when it exited meanwhile
  };
  std::vector<Thread> threads;  // in procfs order; empty when not running
};

// Reads the threads' masks of `record`'s process through `procfs`.
OwnerDescription describe_owner(const Config& config, const Owner& record, const Procfs& procfs);

// {"cpuLists": {<list>: <cpus>}, "cpus", "created", "masks": {"match", "threads":
// [{"actualCpus", "match", "tid"}]}, "owner", "pid", "pool", "reason": {...} or null,
// "running", "startTime"}.
nlohmann::json owner_description_json(const OwnerDescription& description);

}  // namespace kcm
