#include "report.h"

#include <algorithm>
#include <map>

#include "error.h"
#include "reservation.h"

namespace kcm {
namespace {

using nlohmann::json;

json check_json(const std::vector<std::string>& errors) {
  return {{"errors", errors}, {"ok", errors.empty()}};
}

std::string list_ref(const Pool& pool, const CpuList& list) { return pool.name + ":" + list.name; }

}  // namespace

std::string to_document(const json& j) { return j.dump(2) + "\n"; }

json describe_json(const std::string& path, const Config& config) {
  json pools = json::object();
  for (const auto& [name, pool] : config.pools) {
    json lists = json::object();
    for (const auto& [list_name, list] : pool.lists) {
      lists[list_name] = {{"cpus", list_name}, {"tasks", list.tasks}};
    }
    pools[name] = {{"cpuLists", lists}, {"exclusive", pool.exclusive}, {"name", name}};
  }
  return {{"path", path}, {"pools", pools}};
}

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

}  // namespace

namespace {

ReconcileReport reconcile_report(const Config& config, const std::vector<Owner>& owners,
                                 const Procfs& procfs, Statuses& statuses) {
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

  ReconcileReport report;
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
    if (holder_gone(statuses.of(o.pid), o.start_time)) report.stale_owners.push_back(o);
  }
  auto pid_order = [](const auto& a, const auto& b) { return a.pid < b.pid; };
  std::stable_sort(report.reclaimed.begin(), report.reclaimed.end(), pid_order);
  std::stable_sort(report.mismatched.begin(), report.mismatched.end(), pid_order);
  return report;
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

}  // namespace

ReconcileReport build_reconcile_report(const Config& config, const std::vector<Owner>& owners,
                                       const Procfs& procfs) {
  Statuses statuses(procfs);
  return reconcile_report(config, owners, procfs, statuses);
}

std::vector<std::string> ownership_errors(const Config& config, const std::vector<Owner>& owners,
                                          const Procfs& procfs) {
  Statuses statuses(procfs);
  return ownership_errors_of(config, owners, statuses);
}

json reconcile_json(const ReconcileReport& report) {
  json reclaimed = json::array();
  for (const auto& r : report.reclaimed) {
    reclaimed.push_back({{"cpus", r.cpus}, {"pid", r.pid}, {"pool", r.pool}});
  }
  json mismatched = json::array();
  for (const auto& m : report.mismatched) {
    mismatched.push_back(
        {{"actualCpus", m.actual.cpus()}, {"cpus", m.cpus}, {"pid", m.pid}, {"pool", m.pool}});
  }
  return {{"mismatchedCpuMasks", mismatched}, {"reclaimedCpuLists", reclaimed}};
}

void apply_reconcile(const ConfigDir& dir, const ReconcileReport& report) {
  std::map<std::string, Pool> pools;
  for (const auto& r : report.reclaimed) {
    auto it = pools.find(r.pool);
    if (it == pools.end()) it = pools.emplace(r.pool, dir.read_pool(r.pool)).first;
    remove_task(dir, it->second, r.cpus, r.pid);
    // Re-read so a PID listed twice in one pool sees the previous removal.
    it->second = dir.read_pool(r.pool);
  }
  for (const Owner& o : report.stale_owners) dir.remove_owner(o.owner);
}

json node_report_json(const ConfigDir* dir, const std::string& path,
                      const std::optional<Topology>& topology, const Procfs* procfs) {
  std::vector<std::string> conf_errors;
  std::optional<Config> config;
  json description = nullptr;
  if (dir == nullptr) {
    conf_errors.push_back("Unable to open the KCM configuration directory " + quote(path));
  } else {
    try {
      config = dir->read();
      description = describe_json(path, *config);
    } catch (const Error& e) {
      conf_errors.push_back(std::string("Unable to read the KCM configuration directory: ") +
                            e.what());
    }
  }
  json checks = json::object();
  if (config) {
    std::vector<std::pair<const Pool*, const CpuList*>> all;
    for (const auto& [pn, pool] : config->pools) {
      if (pool.lists.empty()) conf_errors.push_back("Pool " + quote(pn) + " has no CPU lists");
      for (const auto& [ln, list] : pool.lists) all.emplace_back(&pool, &list);
    }
    for (std::size_t i = 0; i < all.size(); ++i) {
      for (std::size_t j = i + 1; j < all.size(); ++j) {
        CpuSet both = all[i].second->cpus.intersection(all[j].second->cpus);
        if (!both.empty()) {
          conf_errors.push_back(
              "CPU list overlap detected in " + list_ref(*all[i].first, *all[i].second) + " and " +
              list_ref(*all[j].first, *all[j].second) + " (in both: " + both.to_string() + ")");
        }
      }
    }
    if (topology) {
      std::vector<std::string> cpu_errors;
      const CpuSet online = topology->online();
      for (const auto& [pool, list] : all) {
        CpuSet missing = list->cpus.difference(online);
        if (!missing.empty()) {
          cpu_errors.push_back("CPU list " + list_ref(*pool, *list) + " names CPUs that are " +
                               "offline or absent: " + missing.to_string());
        }
      }
      checks["cpus"] = check_json(cpu_errors);
    }
    if (procfs != nullptr) {
      std::vector<std::string> task_errors, owner_errors;
      try {
        std::vector<std::string> misnamed;
        const std::vector<Owner> owners = dir->read_owners(&misnamed);
        // Both checks judge the same PIDs: each is read from procfs once.
        Statuses statuses(*procfs);
        ReconcileReport rr = reconcile_report(*config, owners, *procfs, statuses);
        for (const auto& r : rr.reclaimed) {
          task_errors.push_back("Task " + std::to_string(r.pid) + " in " + r.pool + ":" + r.cpus +
                                " is not running (kcm reconcile would reclaim it)");
        }
        owner_errors = ownership_errors_of(*config, owners, statuses);
        owner_errors.insert(owner_errors.end(), misnamed.begin(), misnamed.end());
      } catch (const Error& e) {
        task_errors.push_back(e.what());
        owner_errors.push_back(e.what());
      }
      checks["tasks"] = check_json(task_errors);
      checks["owners"] = check_json(owner_errors);
    }
  }
  checks["configDirectory"] = check_json(conf_errors);
  return {{"checks", checks}, {"description", description}};
}

}  // namespace kcm
