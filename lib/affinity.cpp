#include "affinity.h"

#include <sched.h>

#include <cerrno>
#include <cstring>

#include "error.h"

namespace kcm {
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

// Pins one thread; returns false when it is gone (ESRCH) and `gone_ok`, throws otherwise.
bool pin_thread(pid_t tid, const CpuMask& set, const CpuSet& cpus, bool gone_ok) {
  if (::sched_setaffinity(tid, set.size(), set.get()) == 0) return true;
  if (gone_ok && errno == ESRCH) return false;
  const std::string thread = tid == 0 ? std::string("self") : "thread " + std::to_string(tid);
  throw op_error("set CPU affinity of", thread + " to " + cpus.to_string(), std::strerror(errno));
}

}  // namespace

void set_affinity(pid_t tid, const CpuSet& cpus) {
  pin_thread(tid, CpuMask(cpus), cpus, /*gone_ok=*/false);
}

int set_affinity_all(const std::vector<pid_t>& tids, const CpuSet& cpus) {
  const CpuMask set(cpus);
  int pinned = 0;
  for (pid_t tid : tids) pinned += pin_thread(tid, set, cpus, /*gone_ok=*/true) ? 1 : 0;
  return pinned;
}

}  // namespace kcm
