#include "reservation.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "allocator.h"
#include "error.h"
#include "topology.h"

namespace kcm {

void remove_task(const ConfigDir& dir, const Pool& pool, const std::string& list, pid_t pid) {
  auto it = pool.lists.find(list);
  if (it == pool.lists.end()) return;
  std::vector<pid_t> tasks = it->second.tasks;
  auto end = std::remove(tasks.begin(), tasks.end(), pid);
  if (end == tasks.end()) return;
  tasks.erase(end, tasks.end());
  dir.write_tasks(pool.name, list, tasks);
}

void release_locked(const ConfigDir& dir, const Owner& record) {
  if (dir.has_pool(record.pool)) {
    // Any failure here keeps the record, so a retry or reconcile can still find the PID.
    Pool pool = dir.read_pool(record.pool);
    for (const std::string& list : record.cpu_lists) remove_task(dir, pool, list, record.pid);
  } else {
    spdlog::warn("release {}: pool {} no longer exists", record.owner, record.pool);
  }
  dir.remove_owner(record.owner);
}

Reservation reserve(const ConfigDir& dir, const ReservationRequest& request,
                    const LockOptions& lock) {
  validate_pool_name(request.pool);
  DirLock held = dir.lock(LockMode::kExclusive, lock.program, lock.timeout);
  std::optional<Owner> previous = dir.read_owner(request.owner);
  Pool pool = dir.read_pool(request.pool);
  Reservation out;
  // The same holder only when the same process: a PID reused after a killed holder is
  // another process, and its leftover record must be released, not adopted.
  if (previous && previous->pid == request.pid && previous->start_time == request.start_time &&
      previous->pool == request.pool) {
    out.record = *previous;
    out.existing = true;
  } else {
    // Choose as if a stale record of this owner were already released, but release it
    // only once the choice succeeded: a request that cannot be met changes nothing.
    if (previous && previous->pool == request.pool) {
      for (const std::string& name : previous->cpu_lists) {
        auto it = pool.lists.find(name);
        if (it == pool.lists.end()) continue;
        std::erase(it->second.tasks, previous->pid);
      }
    }
    std::map<int, int> nodes;
    if (request.count > 1) nodes = read_node_map(lock.sysfs_root);
    Choice choice = choose_lists(pool, request.count, nodes);
    if (choice.spans_nodes) {
      spdlog::warn("{}: no NUMA node has {} free lists in pool {}; taking them across nodes",
                   request.owner, request.count, request.pool);
    }
    if (previous) {
      spdlog::info("{}: releasing a stale record of pid {}", request.owner, previous->pid);
      release_locked(dir, *previous);
    }
    out.record = Owner{request.owner, request.pid,  request.start_time,
                       request.pool,  choice.lists, rfc3339_now()};
    dir.write_owner(out.record);
    try {
      for (const std::string& name : choice.lists) {
        std::vector<pid_t> tasks = pool.lists.at(name).tasks;
        tasks.push_back(request.pid);
        dir.write_tasks(request.pool, name, tasks);
      }
    } catch (const Error&) {
      release_locked(dir, out.record);
      throw;
    }
  }
  for (const std::string& name : out.record.cpu_lists) {
    auto it = pool.lists.find(name);
    if (it == pool.lists.end()) {
      throw op_error("reserve", dir.pool_path(request.pool) + "/" + name,
                     "recorded for " + request.owner + " but missing from the pool");
    }
    out.cpus.add(it->second.cpus);
  }
  return out;
}

void release_after_failure(const ConfigDir& dir, const std::string& owner, const LockOptions& lock,
                           const Error& failure) {
  try {
    release(dir, owner, lock);
  } catch (const Error& e) {
    throw Error(std::string(failure.what()) + "; rolling back failed too: " + e.what(),
                failure.exit_code());
  }
}

std::optional<Owner> release(const ConfigDir& dir, const std::string& owner,
                             const LockOptions& lock) {
  DirLock held = dir.lock(LockMode::kExclusive, lock.program, lock.timeout);
  std::optional<Owner> record = dir.read_owner(owner);
  if (record) release_locked(dir, *record);
  return record;
}

}  // namespace kcm
