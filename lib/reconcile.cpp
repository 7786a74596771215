#include "reconcile.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "affinity.h"
#include "cgroup.h"
#include "error.h"

namespace kcm {
namespace {

// Every PID as procfs shows it, read once however many lists and records name it: the
// work of a judgement grows with the PIDs in the directory, not with PIDs x files.
class Processes {
 public:
  explicit Processes(const Procfs& procfs) : procfs_(procfs) {}

  const Procfs::Status& status(pid_t pid) {
    auto it = statuses_.find(pid);
    if (it == statuses_.end()) it = statuses_.emplace(pid, procfs_.status(pid)).first;
    return it->second;
  }
  const std::optional<CpuSet>& cpus_allowed(pid_t pid) {
    auto it = cpus_.find(pid);
    if (it == cpus_.end()) it = cpus_.emplace(pid, procfs_.cpus_allowed(pid)).first;
    return it->second;
  }

 private:
  const Procfs& procfs_;
  std::map<pid_t, Procfs::Status> statuses_;
  std::map<pid_t, std::optional<CpuSet>> cpus_;
};

// Records by PID, so each task is judged against the records naming it in one lookup.
using RecordsByPid = std::multimap<pid_t, const Owner*>;

RecordsByPid records_by_pid(const std::vector<Owner>& owners) {
  RecordsByPid out;
  for (const Owner& o : owners) out.emplace(o.pid, &o);
  return out;
}

bool names_list(const Owner& o, const std::string& pool, const std::string& list) {
  return o.pool == pool &&
         std::find(o.cpu_lists.begin(), o.cpu_lists.end(), list) != o.cpu_lists.end();
}

// Only a process that is provably gone, or provably another one (a record with another
// start time names its PID on this list), loses its CPUs. A task that no record names (the
// original format, or written by hand) is judged by liveness alone; one whose records all
// name another start time is a reused PID. A PID procfs cannot judge (kUnknown) is kept.
bool task_stale(const Procfs::Status& st, const RecordsByPid& by_pid, const std::string& pool,
                const std::string& list, pid_t pid) {
  if (st.liveness != Procfs::Liveness::kAlive) return st.liveness == Procfs::Liveness::kGone;
  bool recorded = false;
  auto [first, last] = by_pid.equal_range(pid);
  for (auto it = first; it != last; ++it) {
    if (!names_list(*it->second, pool, list)) continue;
    if (it->second->start_time == st.start_time) return false;
    recorded = true;
  }
  return recorded;
}

// One list's tasks: the reclaimed and mismatched go to the report, and the list is
// rewritten once, without all of its reclaimed tasks, when it has any.
void judge_list(const Pool& pool, const CpuList& list, const RecordsByPid& by_pid,
                Processes& processes, Reconciliation& found) {
  std::vector<pid_t> kept;
  for (pid_t pid : list.tasks) {
    if (task_stale(processes.status(pid), by_pid, pool.name, list.name, pid)) {
      found.report.reclaimed.push_back({pid, pool.name, list.name});
      continue;
    }
    kept.push_back(pid);
    const std::optional<CpuSet>& allowed = processes.cpus_allowed(pid);
    if (allowed && *allowed != list.cpus) {
      found.report.mismatched.push_back({pid, pool.name, list.name, *allowed});
    }
  }
  if (kept.size() != list.tasks.size()) {
    found.rewrites.push_back({pool.name, list.name, std::move(kept)});
  }
}

Reconciliation judge(const Config& config, const std::vector<Owner>& owners, Processes& processes) {
  const RecordsByPid by_pid = records_by_pid(owners);
  Reconciliation found;
  for (const auto& [pool_name, pool] : config.pools) {
    for (const auto& [list_name, list] : pool.lists) {
      judge_list(pool, list, by_pid, processes, found);
    }
  }
  for (const Owner& o : owners) {
    if (holder_gone(processes.status(o.pid), o.start_time)) found.stale_owners.push_back(o);
  }
  auto pid_order = [](const auto& a, const auto& b) { return a.pid < b.pid; };
  std::stable_sort(found.report.reclaimed.begin(), found.report.reclaimed.end(), pid_order);
  std::stable_sort(found.report.mismatched.begin(), found.report.mismatched.end(), pid_order);
  return found;
}

// "Exclusive CPU list ... is held by N running processes" for every exclusive list whose
// tasks name more than one process that is not provably gone.
void check_exclusive_holders(const Config& config, Processes& processes,
                             std::vector<std::string>& errors) {
  for (const auto& [pool_name, pool] : config.pools) {
    if (!pool.exclusive) continue;
    for (const auto& [list_name, list] : pool.lists) {
      std::vector<std::string> running;
      for (pid_t pid : list.tasks) {
        if (processes.status(pid).liveness != Procfs::Liveness::kGone) {
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
}

// The records' checks: a record whose holder is gone, or whose running holder is missing
// from a recorded list's tasks. Which list holds which PID is gathered once, so a list of
// many tasks named by many records is not searched per record.
void check_records(const Config& config, const std::vector<Owner>& owners, Processes& processes,
                   std::vector<std::string>& errors) {
  std::set<std::pair<const CpuList*, pid_t>> held;
  for (const auto& [pool_name, pool] : config.pools) {
    for (const auto& [list_name, list] : pool.lists) {
      for (pid_t pid : list.tasks) held.emplace(&list, pid);
    }
  }
  for (const Owner& o : owners) {
    const std::string who = "Owner " + quote(o.owner) + " (pid " + std::to_string(o.pid) + ")";
    if (holder_gone(processes.status(o.pid), o.start_time)) {
      errors.push_back(who + " is not running (kcm reconcile would remove its record)");
      continue;
    }
    auto pool = config.pools.find(o.pool);
    for (const std::string& list : o.cpu_lists) {
      const CpuList* recorded = nullptr;
      if (pool != config.pools.end()) {
        auto it = pool->second.lists.find(list);
        if (it != pool->second.lists.end()) recorded = &it->second;
      }
      if (recorded == nullptr || !held.contains({recorded, o.pid})) {
        std::string error = who;
        error.append(" is recorded on ").append(o.pool).append(":").append(list);
        errors.push_back(error.append(", whose tasks file does not list it"));
      }
    }
  }
}

std::vector<std::string> ownership_errors_of(const Config& config, const std::vector<Owner>& owners,
                                             Processes& processes) {
  std::vector<std::string> errors;
  check_exclusive_holders(config, processes, errors);
  check_records(config, owners, processes, errors);
  return errors;
}

std::string list_ref(const Pool& pool, const CpuList& list) { return pool.name + ":" + list.name; }

// configDirectory's checks of a readable directory: pools without lists, then every pair
// of lists that share CPUs, in the order of the lists. The pairs are found through the
// lists holding each CPU, not by intersecting every list with every other one.
void check_lists(const Config& config, std::vector<std::string>& errors) {
  std::vector<std::pair<const Pool*, const CpuList*>> all;
  std::map<int, std::vector<std::size_t>> holders;  // CPU -> indices in `all`
  for (const auto& [pn, pool] : config.pools) {
    if (pool.lists.empty()) errors.push_back("Pool " + quote(pn) + " has no CPU lists");
    for (const auto& [ln, list] : pool.lists) {
      for (int cpu : list.cpus.cpus()) holders[cpu].push_back(all.size());
      all.emplace_back(&pool, &list);
    }
  }
  std::set<std::pair<std::size_t, std::size_t>> overlapping;
  for (const auto& [cpu, lists] : holders) {
    for (std::size_t a = 0; a < lists.size(); ++a) {
      for (std::size_t b = a + 1; b < lists.size(); ++b) overlapping.emplace(lists[a], lists[b]);
    }
  }
  for (const auto& [i, j] : overlapping) {
    const CpuSet both = all[i].second->cpus.intersection(all[j].second->cpus);
    errors.push_back("CPU list overlap detected in " + list_ref(*all[i].first, *all[i].second) +
                     " and " + list_ref(*all[j].first, *all[j].second) +
                     " (in both: " + both.to_string() + ")");
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
    Processes processes(procfs);
    for (const auto& r : judge(config, owners, processes).report.reclaimed) {
      task_errors.push_back("Task " + std::to_string(r.pid) + " in " + r.pool + ":" + r.cpus +
                            " is not running (kcm reconcile would reclaim it)");
    }
    owner_errors = ownership_errors_of(config, owners, processes);
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
  Processes processes(procfs);
  return judge(config, owners, processes);
}

std::vector<std::string> ownership_errors(const Config& config, const std::vector<Owner>& owners,
                                          const Procfs& procfs) {
  Processes processes(procfs);
  return ownership_errors_of(config, owners, processes);
}

void apply_reconcile(const ConfigDir& dir, const Reconciliation& found) {
  for (const TasksRewrite& r : found.rewrites) dir.write_tasks(r.pool, r.list, r.tasks);
  for (const Owner& o : found.stale_owners) dir.remove_owner(o.owner);
}

namespace {

// Each PID's expected CPUs: the union of the lists whose tasks name it, and its pool.
std::map<pid_t, std::pair<std::string, CpuSet>> expected_cpus(const Config& config) {
  std::map<pid_t, std::pair<std::string, CpuSet>> out;
  for (const auto& [pool_name, pool] : config.pools) {
    for (const auto& [list_name, list] : pool.lists) {
      for (pid_t pid : list.tasks) {
        auto& [pool_of, cpus] = out[pid];
        if (pool_of.empty()) pool_of = pool_name;
        cpus.add(list.cpus);
      }
    }
  }
  return out;
}

// Whether the PID's holder is a container: a record names it, and not as kcm isolate.
bool container_holder(const std::vector<Owner>& owners, const MismatchedTask& task) {
  return std::any_of(owners.begin(), owners.end(), [&](const Owner& o) {
    return o.pid == task.pid && o.pool == task.pool &&
           o.owner != "isolate-" + std::to_string(task.pid);
  });
}

// A container's cpuset cgroup, rewritten when it no longer allows exactly `expected`.
// Returns the directory written, "" when none was.
std::string repair_cgroup(const Procfs& procfs, pid_t pid, const std::string& mountinfo_path,
                          const CpuSet& expected) {
  const std::optional<CpusetCgroup> cgroup = cpuset_cgroup_of(procfs, pid, mountinfo_path);
  if (!cgroup || read_cpuset_cpus(*cgroup) == expected) return "";
  write_cpuset(*cgroup, expected);
  return cgroup->dir;
}

void add_error(MaskRepair& repair, const std::string& error) {
  repair.error += (repair.error.empty() ? "" : "; ") + error;
}

}  // namespace

std::vector<MaskRepair> repair_masks(const Config& config, const std::vector<Owner>& owners,
                                     const Reconciliation& found, const Procfs& procfs,
                                     const std::string& mountinfo_path) {
  const auto expected = expected_cpus(config);
  std::vector<MaskRepair> repairs;
  std::set<pid_t> seen;
  for (const MismatchedTask& task : found.report.mismatched) {
    auto it = expected.find(task.pid);
    if (it == expected.end() || task.actual == it->second.second || !seen.insert(task.pid).second) {
      continue;
    }
    MaskRepair repair{task.pid, it->second.first, it->second.second, task.actual, "", ""};
    if (container_holder(owners, task)) {
      // First: on cgroup v2 a rewritten cpuset.cpus resets its tasks' affinity.
      try {
        repair.cgroup = repair_cgroup(procfs, task.pid, mountinfo_path, repair.expected);
      } catch (const Error& e) {
        add_error(repair, e.what());
      }
    }
    try {
      if (set_affinity_all(procfs.threads(task.pid), repair.expected) == 0) {
        add_error(repair,
                  "set CPU affinity of \"pid " + std::to_string(task.pid) + "\": process is gone");
      }
    } catch (const Error& e) {
      add_error(repair, e.what());
    }
    repairs.push_back(std::move(repair));
  }
  return repairs;
}

nlohmann::json repairs_json(const std::vector<MaskRepair>& repairs) {
  nlohmann::json out = nlohmann::json::array();
  for (const MaskRepair& r : repairs) {
    nlohmann::json entry = {{"cpus", r.expected.to_string()},
                            {"pid", r.pid},
                            {"pool", r.pool},
                            {"previousCpus", r.previous.cpus()}};
    if (!r.cgroup.empty()) entry["cgroup"] = r.cgroup;
    if (!r.error.empty()) entry["error"] = r.error;
    out.push_back(std::move(entry));
  }
  return out;
}

constexpr char kEarlierBootError[] =
    "The tasks files and owner records are of an earlier boot: every process they name is "
    "gone (the next kcm-hook, kcm isolate or kcm reconcile empties them)";

NodeReport check_node(const ConfigDir* dir, const std::string& path,
                      const std::optional<Topology>& topology, const Procfs* procfs) {
  NodeReport out;
  out.path = path;
  if (dir == nullptr) {
    out.config_errors.push_back("Unable to open the KCM configuration directory " + quote(path));
    return out;
  }
  const bool earlier_boot = procfs != nullptr && dir->records_of_earlier_boot(procfs->root());
  try {
    out.config = dir->read(earlier_boot ? ConfigDir::Tasks::kNone : ConfigDir::Tasks::kAsRecorded);
  } catch (const Error& e) {
    out.config_errors.push_back(std::string("Unable to read the KCM configuration directory: ") +
                                e.what());
    return out;
  }
  check_lists(*out.config, out.config_errors);
  if (topology) out.cpu_errors = offline_cpu_errors(*out.config, *topology);
  if (earlier_boot) {
    // Unread: a power loss may have left them as anything (docs/config.md).
    out.task_errors = {kEarlierBootError};
    out.owner_errors = {kEarlierBootError};
  } else if (procfs != nullptr) {
    check_processes(*dir, *out.config, *procfs, out);
  }
  return out;
}

}  // namespace kcm
