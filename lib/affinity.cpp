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

namespace {

// A CPU mask sized for the highest CPU: cpu_set_t holds only 1024 CPUs, and CpuSet
// allows up to kMaxCpus.
class CpuMask {
 public:
  explicit CpuMask(const CpuSet& cpus)
      : count_(cpus.empty() ? 1 : cpus.last() + 1),
        set_(CPU_ALLOC(count_)),
        size_(CPU_ALLOC_SIZE(count_)) {
    if (set_ == nullptr) throw Error("allocate CPU mask: out of memory");
    CPU_ZERO_S(size_, set_);
    for (int cpu : cpus.cpus()) CPU_SET_S(cpu, size_, set_);
  }
  CpuMask(const CpuMask&) = delete;
  CpuMask& operator=(const CpuMask&) = delete;
  ~CpuMask() { CPU_FREE(set_); }
  const cpu_set_t* get() const { return set_; }
  std::size_t size() const { return size_; }

 private:
  int count_;
  cpu_set_t* set_;
  std::size_t size_;
};

}  // namespace

void set_affinity(pid_t tid, const CpuSet& cpus) {
  CpuMask set(cpus);
  if (::sched_setaffinity(tid, set.size(), set.get()) != 0) {
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
  CpuMask set(cpus);
  int pinned = 0;
  for (pid_t tid : tids) {
    if (::sched_setaffinity(tid, set.size(), set.get()) == 0) {
      ++pinned;
    } else if (errno != ESRCH) {
      throw op_error("set CPU affinity of", thread_name(tid) + " to " + cpus.to_string(),
                     std::strerror(errno));
    }
  }
  return pinned;
}

}  // namespace kcm
