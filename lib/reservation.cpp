#include "reservation.h"

#include <spdlog/spdlog.h>

#include <algorithm>

#include "allocator.h"
#include "error.h"
#include "explain.h"
#include "procfs.h"
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

namespace {

bool holds(const CpuList& list, pid_t pid) {
  return std::find(list.tasks.begin(), list.tasks.end(), pid) != list.tasks.end();
}

std::string joined(const std::vector<CpuListName>& names) {
  std::string out;
  for (const CpuListName& n : names) out += (out.empty() ? "" : " ") + n;
  return out;
}

// The NUMA node map matters only to a request for more than one list.
std::map<int, int> node_map_for(int count, const std::string& sysfs_root) {
  return count > 1 ? read_node_map(sysfs_root) : std::map<int, int>{};
}

Choice choose(const Pool& pool, const std::string& owner, int count,
              const std::string& sysfs_root) {
  Choice choice = choose_lists(pool, count, node_map_for(count, sysfs_root));
  if (choice.spans_nodes) {
    spdlog::warn("{}: no NUMA node has {} free lists in pool {}; taking them across nodes", owner,
                 count, pool.name);
  }
  return choice;
}

// Adds the holder's PID to `lists` (record first, then tasks); on a failed tasks write
// the whole record is released again, so the holder ends with all its lists or none.
void write_tasks_of(const ConfigDir& dir, Pool& pool, const Owner& record,
                    const std::vector<CpuListName>& lists) {
  try {
    for (const CpuListName& name : lists) {
      std::vector<pid_t>& tasks = pool.lists.at(name).tasks;
      tasks.push_back(record.pid);
      dir.write_tasks(pool.name, name, tasks);
    }
  } catch (const Error&) {
    release_locked(dir, record);
    throw;
  }
}

// The same process asks again. A writer killed between the record and the tasks files
// left recorded lists without its PID: each is given back when still free, else replaced
// by another free one, so the record and the tasks files agree again.
bool complete(const ConfigDir& dir, Pool& pool, Owner& record, int count,
              const std::string& sysfs_root) {
  std::vector<CpuListName> kept, missing;
  for (const CpuListName& name : record.cpu_lists) {
    auto it = pool.lists.find(name);
    if (it == pool.lists.end()) continue;
    if (holds(it->second, record.pid)) {
      kept.push_back(name);
    } else if (!pool.exclusive || it->second.tasks.empty()) {
      kept.push_back(name);
      missing.push_back(name);
    }
  }
  if (kept.size() < static_cast<std::size_t>(count)) {
    Pool remaining = pool;  // the kept lists are this holder's, not free
    for (const CpuListName& name : kept) remaining.lists.erase(name);
    const int more = count - static_cast<int>(kept.size());
    for (const CpuListName& name : choose(remaining, record.owner, more, sysfs_root).lists) {
      kept.push_back(name);
      missing.push_back(name);
    }
  }
  if (kept == record.cpu_lists && missing.empty()) return false;
  spdlog::warn("{}: completing an allocation a killed writer left: lists {} (recorded {})",
               record.owner, joined(kept), joined(record.cpu_lists));
  if (kept != record.cpu_lists) {
    record.cpu_lists = kept;
    dir.write_owner(record);
  }
  write_tasks_of(dir, pool, record, missing);
  return true;
}

}  // namespace

Reservation reserve(const ConfigDir& dir, const ReservationRequest& request,
                    const LockOptions& lock, const std::string& sysfs_root) {
  DirLock held = dir.lock_for_writing(lock);
  std::optional<Owner> previous = dir.read_owner(request.owner);
  if (previous && previous->owner != request.owner) {
    // Names are one-to-one (owner.h), so only a hand-made file or a SHA-256 collision gets
    // here: another holder's record is never taken over.
    throw Error("owner " + quote(request.owner) + ": its record holds owner " +
                quote(previous->owner) + "; refusing to take it over");
  }
  Pool pool = dir.read_pool(request.pool);
  const bool same_process = previous && names_process(*previous, {request.pid, request.start_time});
  if (previous && !same_process &&
      !holder_gone(Procfs(lock.procfs_root).status(previous->pid), previous->start_time)) {
    throw Error("owner " + quote(request.owner) + " already holds CPU lists for live pid " +
                std::to_string(previous->pid) + " (" + joined(previous->cpu_lists) + " of pool " +
                quote(previous->pool) + ")");
  }
  Reservation out;
  if (same_process && previous->pool == request.pool) {
    out.record = *previous;
    out.existing = !complete(dir, pool, out.record, request.count, sysfs_root);
  } else {
    // The record is stale (its process is gone) or the same process moves to another
    // pool. Choose as if it were already released, but release it only once the choice
    // succeeded: a request that cannot be met changes nothing.
    if (previous && previous->pool == request.pool) {
      for (const CpuListName& name : previous->cpu_lists) {
        auto it = pool.lists.find(name);
        if (it != pool.lists.end()) std::erase(it->second.tasks, previous->pid);
      }
    }
    Choice choice = choose(pool, request.owner, request.count, sysfs_root);
    if (previous) {
      spdlog::info("{}: releasing the record of pid {}", request.owner, previous->pid);
      release_locked(dir, *previous);
    }
    out.record = Owner{request.owner, request.pid,  request.start_time,
                       request.pool,  choice.lists, rfc3339_now()};
    CpuSet chosen;
    for (const CpuListName& name : choice.lists) chosen.add(pool.lists.at(name).cpus);
    out.record.reason = allocation_reason(choice, chosen, sysfs_root);
    dir.write_owner(out.record);
    write_tasks_of(dir, pool, out.record, choice.lists);
  }
  for (const CpuListName& name : out.record.cpu_lists) out.cpus.add(pool.lists.at(name).cpus);
  return out;
}

void release_after_failure(const ConfigDir& dir, const std::string& owner, const LockOptions& lock,
                           const ProcessId& self, const Error& failure) {
  try {
    release(dir, owner, lock, self);
  } catch (const Error& e) {
    throw Error(std::string(failure.what()) + "; rolling back failed too: " + e.what(),
                failure.kind(), failure.sys_errno());
  }
}

std::optional<Owner> release(const ConfigDir& dir, const std::string& owner,
                             const LockOptions& lock, const std::optional<ProcessId>& self) {
  DirLock held = dir.lock_for_writing(lock);
  std::optional<Owner> record = dir.read_owner(owner);
  if (!record) return std::nullopt;
  if (record->owner != owner) {
    spdlog::warn("not releasing the record stored for {}: it holds owner {}", owner, record->owner);
    return std::nullopt;
  }
  const bool own = self && names_process(*record, *self);
  if (!own && !holder_gone(Procfs(lock.procfs_root).status(record->pid), record->start_time)) {
    spdlog::warn("not releasing CPU lists {} of {}: they belong to pid {}, which is still running",
                 joined(record->cpu_lists), owner, record->pid);
    return std::nullopt;
  }
  release_locked(dir, *record);
  return record;
}

}  // namespace kcm
