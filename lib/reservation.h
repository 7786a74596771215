// The locked transactions that hand CPU lists to a holder and take them back; shared by
// kcm-hook (holder: a container id) and `kcm isolate` (holder: "isolate-<pid>").
//
// The tasks files say who holds a list; the owner record is the holder's intent, written
// first, so that whoever comes next can finish or undo a transaction a kill interrupted.
// reserve() writes the record and then the tasks files, release() removes the PID from
// the tasks files and then the record. A holder killed at any point leaves nothing, a
// record whose lists lack some of its tasks, or tasks whose record exists; no list is
// ever held by two live processes. The same holder's next reserve (a runtime retrying
// the hook) completes its record; poststop or `kcm reconcile` remove what a holder that
// is gone left. A record is bound to its holder: its id (owner.h) and its process (pid
// and start time); a record whose process still runs is never taken over by another.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "config_dir.h"
#include "cpuset.h"
#include "error.h"
#include "names.h"
#include "owner.h"

namespace kcm {

struct ReservationRequest {
  std::string owner;
  pid_t pid = 0;  // host PID to write into the tasks files
  std::uint64_t start_time = 0;
  PoolName pool;
  int count = 1;
};

struct Reservation {
  Owner record;
  CpuSet cpus;            // union of the chosen lists
  bool existing = false;  // the holder already had these lists (a repeated hook call)
};

// A process as a record names it: the PID and its start time tell a reused PID apart.
struct ProcessId {
  pid_t pid = 0;
  std::uint64_t start_time = 0;
};

// Whether `record` names that very process.
inline bool names_process(const Owner& record, const ProcessId& process) {
  return record.pid == process.pid && record.start_time == process.start_time;
}

// Under the exclusive lock:
// - the same process already holds lists for `owner` in this pool (a repeated or retried
//   hook call): returns them, first giving back to the tasks files any recorded list a
//   killed writer left without its PID (another free list when that one was taken since);
// - `owner`'s record names a process that is provably gone: that record is released, and
//   new lists are chosen (allocator.h) and recorded;
// - `owner`'s record names another process that still runs (or may: procfs.h kUnknown):
//   throws, as when the pool does not exist or cannot satisfy the request.
// Every refusal changes nothing.
// `lock.procfs_root` also judges whether a recorded holder still runs; `sysfs_root` gives
// the NUMA node map, read only when more than one list is asked for.
Reservation reserve(const ConfigDir& dir, const ReservationRequest& request,
                    const LockOptions& lock, const std::string& sysfs_root);

// Under the exclusive lock: removes the holder's pid from its lists and deletes its
// record, when the record names `self` (a holder giving its own lists back) or a process
// that is provably gone (poststop, which knows no pid). A record of another process that
// still runs is kept, with a warning: a second container with the same id must not free
// the lists of the first. Returns the released record, or nullopt when none was.
std::optional<Owner> release(const ConfigDir& dir, const std::string& owner,
                             const LockOptions& lock, const std::optional<ProcessId>& self);

// Rolls back `self`'s reservation after `failure`. When the rollback fails too, throws
// the failure with the rollback's error appended (the lists stay recorded for reconcile).
void release_after_failure(const ConfigDir& dir, const std::string& owner, const LockOptions& lock,
                           const ProcessId& self, const Error& failure);

// The unlocked steps, for callers that already hold the lock (reconcile).
void remove_task(const ConfigDir& dir, const Pool& pool, const std::string& list, pid_t pid);
void release_locked(const ConfigDir& dir, const Owner& record);

}  // namespace kcm
