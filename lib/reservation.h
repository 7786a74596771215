// The locked transactions that hand CPU lists to a holder and take them back; shared by
// kcm-hook (holder: a container id) and `kcm isolate` (holder: "isolate-<pid>").
//
// reserve() writes the owner record first and the tasks files after it, release() the
// other way round, so a holder killed at any point leaves either nothing, an owner record
// without tasks, or tasks whose owner record exists: `kcm reconcile` resolves each
// (dead or reused PIDs are removed, records of dead holders deleted).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <string>

#include "config_dir.h"
#include "cpuset.h"
#include "error.h"
#include "owner.h"

namespace kcm {

struct ReservationRequest {
  std::string owner;
  pid_t pid = 0;  // host PID to write into the tasks files
  std::uint64_t start_time = 0;
  std::string pool;
  int count = 1;
};

struct Reservation {
  Owner record;
  CpuSet cpus;            // union of the chosen lists
  bool existing = false;  // the holder already had these lists (a repeated hook call)
};

struct LockOptions {
  std::string program;  // recorded in the lock file
  std::chrono::milliseconds timeout;
  std::string sysfs_root = "/sys";  // for the NUMA node map, read only when count > 1
};

// Under the exclusive lock: when `owner` already holds lists for the same pid, returns
// them; a record left by an earlier process of the same owner id is released first.
// Otherwise chooses lists (allocator.h) and records them. Throws Error, changing nothing,
// when the pool does not exist or cannot satisfy the request.
Reservation reserve(const ConfigDir& dir, const ReservationRequest& request,
                    const LockOptions& lock);

// Under the exclusive lock: removes the holder's pid from its lists and deletes its
// record. Returns the released record, or nullopt when the holder held nothing.
std::optional<Owner> release(const ConfigDir& dir, const std::string& owner,
                             const LockOptions& lock);

// Rolls a reservation back after `failure`. When the rollback fails too, throws the
// failure with the rollback's error appended (the lists stay recorded for reconcile).
void release_after_failure(const ConfigDir& dir, const std::string& owner, const LockOptions& lock,
                           const Error& failure);

// The unlocked steps, for callers that already hold the lock (reconcile).
void remove_task(const ConfigDir& dir, const Pool& pool, const std::string& list, pid_t pid);
void release_locked(const ConfigDir& dir, const Owner& record);

}  // namespace kcm
