#include "reconcile.h"

#include <algorithm>
#include <map>
#include <utility>

#include "error.h"
#include "reservation.h"

namespace kcm {
namespace {

// Every PID's status, read once from procfs however many lists and records name it.
class Statuses {
 public:
  explicit Statuses(const Procfs& procfs) : procfs_(procfs) {}
  const Procfs::Status& of(pid_t pid) {
    auto it = seen_.find(pid);
    if (it == seen_.end()) it = seen_.emplace(pid, procfs_.status(pid)).first;
    return it->second;
  }

 private:
  const Procfs& procfs_;
  std::map<pid_t, Procfs::Status> seen_;
};

// Records by PID, so each task is judged against the records naming it in one lookup.
std::multimap<pid_t, const Owner*> records_by_pid(const std::vector<Owner>& owners) {
  std::multimap<pid_t, const Owner*> out;
  for (const Owner& o : owners) out.emplace(o.pid, &o);
  return out;
}

bool names_list(const Owner& o, const std::string& pool, const std::string& list) {
  return o.pool == pool &&
         std::find(o.cpu_lists.begin(), o.cpu_lists.end(), list) != o.cpu_lists.end();
}

Reconciliation judge(const Config& config, const std::vector<Owner>& owners, const Procfs& procfs,
                     Statuses& statuses) {
  const auto by_pid = records_by_pid(owners);
  // Only a process that is provably gone, or provably another one (a record with another
  // start time names its PID), loses its CPUs. A task that no record names (the original
  // format, or written by hand) is judged by liveness alone; one whose records all name
  // another start time is a reused PID. A PID procfs cannot judge (kUnknown) is kept.
  auto task_stale = [&](const std::string& pool, const std::string& list, pid_t pid) {
    const Procfs::Status& st = statuses.of(pid);
    if (st.liveness != Procfs::Liveness::kAlive) return st.liveness == Procfs::Liveness::kGone;
    bool recorded = false;
    auto [first, last] = by_pid.equal_range(pid);
    for (auto it = first; it != last; ++it) {
      if (!names_list(*it->second, pool, list)) continue;
      if (it->second->start_time == st.start_time) return false;
      recorded = true;
    }
    return recorded;
  };

  Reconciliation found;
  ReconcileReport& report = found.report;
  for (const auto& [pool_name, pool] : config.pools) {
    for (const auto& [list_name, list] : pool.lists) {
      for (pid_t pid : list.tasks) {
        if (task_stale(pool_name, list_name, pid)) {
          report.reclaimed.push_back({pid, pool_name, list_name});
          continue;
        }
        std::optional<CpuSet> allowed = procfs.cpus_allowed(pid);
        if (allowed && *allowed != list.cpus) {
          report.mismatched.push_back({pid, pool_name, list_name, *allowed});
        }
      }
    }
  }
  for (const Owner& o : owners) {
    if (holder_gone(statuses.of(o.pid), o.start_time)) found.stale_owners.push_back(o);
  }
  auto pid_order = [](const auto& a, const auto& b) { return a.pid < b.pid; };
  std::stable_sort(report.reclaimed.begin(), report.reclaimed.end(), pid_order);
  std::stable_sort(report.mismatched.begin(), report.mismatched.end(), pid_order);
  return found;
}

std::vector<std::string> ownership_errors_of(const Config& config, const std::vector<Owner>& owners,
                                             Statuses& statuses) {
  std::vector<std::string> errors;
  for (const auto& [pool_name, pool] : config.pools) {
    if (!pool.exclusive) continue;
    for (const auto& [list_name, list] : pool.lists) {
      std::vector<std::string> running;
      for (pid_t pid : list.tasks) {
        if (statuses.of(pid).liveness != Procfs::Liveness::kGone) {
          running.push_back(std::to_string(pid));
        }
      }
      if (running.size() > 1) {
        std::string pids;
        for (const std::string& p : running) pids += (pids.empty() ? "" : ", ") + p;
        errors.push_back("Exclusive CPU list " + pool_name + ":" + list_name + " is held by " +
                         std::to_string(running.size()) + " running processes: " + pids);
      }
    }
  }
  for (const Owner& o : owners) {
    const Procfs::Status& st = statuses.of(o.pid);
    const std::string who = "Owner " + quote(o.owner) + " (pid " + std::to_string(o.pid) + ")";
    if (holder_gone(st, o.start_time)) {
      errors.push_back(who + " is not running (kcm reconcile would remove its record)");
      continue;
    }
    auto pool = config.pools.find(o.pool);
    for (const std::string& list : o.cpu_lists) {
      const CpuList* held = nullptr;
      if (pool != config.pools.end()) {
        auto it = pool->second.lists.find(list);
        if (it != pool->second.lists.end()) held = &it->second;
      }
      if (held == nullptr ||
          std::find(held->tasks.begin(), held->tasks.end(), o.pid) == held->tasks.end()) {
        errors.push_back(who + " is recorded on " + o.pool + ":" + list +
                         ", whose tasks file does not list it");
      }
    }
  }
  return errors;
}

std::string list_ref(const Pool& pool, const CpuList& list) { return pool.name + ":" + list.name; }

// configDirectory's checks of a readable directory: pools without lists, then every pair
// of lists that share CPUs.
void check_lists(const Config& config, std::vector<std::string>& errors) {
  std::vector<std::pair<const Pool*, const CpuList*>> all;
  for (const auto& [pn, pool] : config.pools) {
    if (pool.lists.empty()) errors.push_back("Pool " + quote(pn) + " has no CPU lists");
    for (const auto& [ln, list] : pool.lists) all.emplace_back(&pool, &list);
  }
  for (std::size_t i = 0; i < all.size(); ++i) {
    for (std::size_t j = i + 1; j < all.size(); ++j) {
      CpuSet both = all[i].second->cpus.intersection(all[j].second->cpus);
      if (!both.empty()) {
        errors.push_back("CPU list overlap detected in " + list_ref(*all[i].first, *all[i].second) +
                         " and " + list_ref(*all[j].first, *all[j].second) +
                         " (in both: " + both.to_string() + ")");
      }
    }
  }
}

std::vector<std::string> offline_cpu_errors(const Config& config, const Topology& topology) {
  std::vector<std::string> errors;
  const CpuSet online = topology.online();
  for (const auto& [pn, pool] : config.pools) {
    for (const auto& [ln, list] : pool.lists) {
      CpuSet missing = list.cpus.difference(online);
      if (!missing.empty()) {
        errors.push_back("CPU list " + list_ref(pool, list) + " names CPUs that are " +
                         "offline or absent: " + missing.to_string());
      }
    }
  }
  return errors;
}

// The tasks and owners checks: both judge the same PIDs, each read from procfs once.
void check_processes(const ConfigDir& dir, const Config& config, const Procfs& procfs,
                     NodeReport& out) {
  std::vector<std::string> task_errors, owner_errors;
  try {
    std::vector<std::string> misnamed;
    const std::vector<Owner> owners = dir.read_owners(&misnamed);
    Statuses statuses(procfs);
    for (const auto& r : judge(config, owners, procfs, statuses).report.reclaimed) {
      task_errors.push_back("Task " + std::to_string(r.pid) + " in " + r.pool + ":" + r.cpus +
                            " is not running (kcm reconcile would reclaim it)");
    }
    owner_errors = ownership_errors_of(config, owners, statuses);
    owner_errors.insert(owner_errors.end(), misnamed.begin(), misnamed.end());
  } catch (const Error& e) {
    task_errors.push_back(e.what());
    owner_errors.push_back(e.what());
  }
  out.task_errors = std::move(task_errors);
  out.owner_errors = std::move(owner_errors);
}

}  // namespace

Reconciliation judge_reconcile(const Config& config, const std::vector<Owner>& owners,
                               const Procfs& procfs) {
  Statuses statuses(procfs);
  return judge(config, owners, procfs, statuses);
}

std::vector<std::string> ownership_errors(const Config& config, const std::vector<Owner>& owners,
                                          const Procfs& procfs) {
  Statuses statuses(procfs);
  return ownership_errors_of(config, owners, statuses);
}

void apply_reconcile(const ConfigDir& dir, const Reconciliation& found) {
  std::map<std::string, Pool> pools;
  for (const auto& r : found.report.reclaimed) {
    auto it = pools.find(r.pool);
    if (it == pools.end()) it = pools.emplace(r.pool, dir.read_pool(r.pool)).first;
    remove_task(dir, it->second, r.cpus, r.pid);
    // Re-read so a PID listed twice in one pool sees the previous removal.
    it->second = dir.read_pool(r.pool);
  }
  for (const Owner& o : found.stale_owners) dir.remove_owner(o.owner);
}

NodeReport check_node(const ConfigDir* dir, const std::string& path,
                      const std::optional<Topology>& topology, const Procfs* procfs) {
  NodeReport out;
  out.path = path;
  if (dir == nullptr) {
    out.config_errors.push_back("Unable to open the KCM configuration directory " + quote(path));
    return out;
  }
  try {
    out.config = dir->read();
  } catch (const Error& e) {
    out.config_errors.push_back(std::string("Unable to read the KCM configuration directory: ") +
                                e.what());
    return out;
  }
  check_lists(*out.config, out.config_errors);
  if (topology) out.cpu_errors = offline_cpu_errors(*out.config, *topology);
  if (procfs != nullptr) check_processes(*dir, *out.config, *procfs, out);
  return out;
}

}  // namespace kcm
