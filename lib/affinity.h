// CPU affinity of threads (sched_setaffinity / sched_getaffinity).
#pragma once

#include <sys/types.h>

#include <vector>

#include "cpuset.h"

namespace kcm {

// Pins one thread (tid 0: the calling thread). Throws Error naming the thread.
void set_affinity(pid_t tid, const CpuSet& cpus);

// Pins every thread in `tids`; a thread that exited meanwhile (ESRCH) is skipped.
// Returns how many threads were pinned. Throws on any other failure.
int set_affinity_all(const std::vector<pid_t>& tids, const CpuSet& cpus);

}  // namespace kcm
