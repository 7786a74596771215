#include "pin.h"

#include <spdlog/spdlog.h>

#include "affinity.h"
#include "cgroup.h"
#include "error.h"

namespace kcm {

Holder find_holder(const Procfs& procfs, std::string owner, pid_t pid) {
  const auto start_time = procfs.start_time(pid);
  if (!start_time) {
    throw op_error("read start time of", procfs.path(pid, "stat"), "no such process",
                   ErrorKind::kNotFound);
  }
  return Holder{std::move(owner), {pid, *start_time}};
}

namespace {

Reservation reserve_for(const ConfigDir& dir, const Holder& holder, const PinRequest& request,
                        const LockOptions& lock, const std::string& sysfs_root) {
  const ReservationRequest reservation{holder.owner, holder.process.pid, holder.process.start_time,
                                       request.pool, request.count};
  try {
    return reserve(dir, reservation, lock, sysfs_root);
  } catch (const Error& e) {
    if (request.asked_by.empty()) throw;
    throw with_context(request.asked_by, e);
  }
}

}  // namespace

Reservation pin(const ConfigDir& dir, const Holder& holder, const PinRequest& request,
                const ApplyCpus& apply, const LockOptions& lock, const std::string& sysfs_root) {
  Reservation r = reserve_for(dir, holder, request, lock, sysfs_root);
  try {
    apply(r.cpus);
  } catch (const Error& e) {
    // A holder that cannot run on its CPUs must not keep them taken: the runtime refuses
    // the container, isolate does not run the command.
    const std::string context = "pin to CPUs " + r.cpus.to_string();
    try {
      release_after_failure(dir, holder.owner, lock, holder.process, e);
    } catch (const Error& both) {
      throw with_context(context, both);
    }
    throw with_context(context + " (allocation rolled back)", e);
  }
  return r;
}

void apply_to_container(const Procfs& procfs, pid_t pid, const std::optional<CpusetCgroup>& cgroup,
                        const CpuSet& cpus, const std::optional<CpuSet>& mems) {
  if (mems && !cgroup) {
    throw op_error("set NUMA memory nodes " + mems->to_string() + " of",
                   "pid " + std::to_string(pid),
                   "it is in the root cpuset cgroup, whose cpuset.mems cannot be narrowed");
  }
  if (cgroup) {
    write_cpuset(*cgroup, cpus);
    if (mems) write_cpuset_mems(*cgroup, *mems);
  } else {
    spdlog::info("pid {} is in the root cpuset cgroup: setting affinity only", pid);
  }
  if (set_affinity_all(procfs.threads(pid), cpus) == 0) {
    throw op_error("set CPU affinity of", "pid " + std::to_string(pid), "process is gone");
  }
}

int while_pinned(const ConfigDir& dir, const Holder& holder, const LockOptions& lock,
                 const std::function<int()>& body) {
  int result = 0;
  try {
    result = body();
  } catch (const Error& e) {
    release_after_failure(dir, holder.owner, lock, holder.process, e);
    throw;
  }
  release(dir, holder.owner, lock, holder.process);
  return result;
}

}  // namespace kcm
