#include "affinity.h"

#include <sched.h>

#include <cerrno>
#include <cstring>

#include "error.h"

namespace kcm {
namespace {

std::string thread_name(pid_t tid) {
  return tid == 0 ? std::string("self") : "thread " + std::to_string(tid);
}

}  // namespace

void set_affinity(pid_t tid, const CpuSet& cpus) {
  cpu_set_t set = cpus.to_cpu_set();
  if (::sched_setaffinity(tid, sizeof set, &set) != 0) {
    throw op_error("set CPU affinity of", thread_name(tid) + " to " + cpus.to_string(),
                   std::strerror(errno));
  }
}

CpuSet get_affinity(pid_t tid) {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (::sched_getaffinity(tid, sizeof set, &set) != 0) {
    throw sys_error("get CPU affinity of", thread_name(tid), errno);
  }
  return CpuSet::from_cpu_set(set);
}

int set_affinity_all(const std::vector<pid_t>& tids, const CpuSet& cpus) {
  cpu_set_t set = cpus.to_cpu_set();
  int pinned = 0;
  for (pid_t tid : tids) {
    if (::sched_setaffinity(tid, sizeof set, &set) == 0) {
      ++pinned;
    } else if (errno != ESRCH) {
      throw op_error("set CPU affinity of", thread_name(tid) + " to " + cpus.to_string(),
                     std::strerror(errno));
    }
  }
  return pinned;
}

}  // namespace kcm
