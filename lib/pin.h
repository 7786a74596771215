// The pin transaction, one for kcm-hook (a container's init process) and `kcm isolate`
// (itself): the holder's CPU lists are reserved (reservation.h reserve), then applied
// to its process; when applying fails, the reservation is rolled back, so a holder ends
// pinned to its lists or holding none of this call's (docs/design.md "kcm-hook").
//
// Only the way the CPUs are applied differs, and the caller passes it: a container gets
// its cpuset cgroup and the affinity of every thread (apply_to_container), kcm isolate the
// affinity of its own thread before it runs a command (which inherits it) under
// while_pinned.
#pragma once

#include <sys/types.h>

#include <functional>
#include <optional>
#include <string>

#include "cgroup.h"
#include "config_dir.h"
#include "cpuset.h"
#include "lock.h"
#include "names.h"
#include "procfs.h"
#include "reservation.h"

namespace kcm {

// Who holds CPU lists: the owner record's id and the process it names.
struct Holder {
  std::string owner;  // container id, or "isolate-<pid>"
  ProcessId process;
};

// `owner`, whose process is `pid` as `procfs` shows it now (its start time tells a reused
// PID apart). Throws a not-found Error `read start time of "<procfs>/<pid>/stat": no such
// process` when the process is gone.
Holder find_holder(const Procfs& procfs, std::string owner, pid_t pid);

struct PinRequest {
  PoolName pool;
  int count = 1;
  // What asked for the pool, named before a refusal of the reservation, e.g.
  // `annotation "kcm.intel.com/pool"="dataplane"`; "" when the refusal says enough.
  std::string asked_by;
};

// Gives the holder's process the CPUs; throws Error when it cannot.
using ApplyCpus = std::function<void(const CpuSet& cpus)>;

// Reserves `request` for `holder` (reserve(), with `lock` and `sysfs_root` as there),
// then calls `apply` with the reserved CPUs. A refused reservation changes nothing and
// throws, after `asked_by: ` when that is given. When `apply` throws, the holder's lists
// are released again (release_after_failure) and the error is thrown as
//   pin to CPUs 4,12 (allocation rolled back): <why applying failed>
// or, when the rollback fails too (the lists stay recorded for reconcile), as
//   pin to CPUs 4,12: <why applying failed>; rolling back failed too: <why>
Reservation pin(const ConfigDir& dir, const Holder& holder, const PinRequest& request,
                const ApplyCpus& apply, const LockOptions& lock, const std::string& sysfs_root);

// How a container is pinned: its init process `pid` gets `cpus` in its cpuset cgroup
// `cgroup` (which whatever the container forks inherits; the caller looks it up once,
// with cpuset_cgroup_of, as the hook must before its sandbox) and as the affinity of every
// thread (listed through `procfs`), which is all a process in the root cgroup (nullopt)
// can get: the root cpuset cannot be narrowed. With `mems` (kcm.intel.com/memory: local,
// the NUMA nodes topology.h local_memory_nodes gives) the cgroup's cpuset.mems is set to
// them after its CPUs; a container in the root cgroup cannot have that, and is refused
// before anything is written. Throws when the process is gone.
void apply_to_container(const Procfs& procfs, pid_t pid, const std::optional<CpusetCgroup>& cgroup,
                        const CpuSet& cpus, const std::optional<CpuSet>& mems = std::nullopt);

// Runs `body` while `holder` holds its lists (kcm isolate runs its command so), then gives
// them back: release() when `body` returns, release_after_failure() when it throws, and
// rethrows. Returns what `body` returns.
int while_pinned(const ConfigDir& dir, const Holder& holder, const LockOptions& lock,
                 const std::function<int()>& body);

}  // namespace kcm
