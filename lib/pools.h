// The configuration directory's content as values (docs/config.md): pools of CPU lists
// and the PIDs on each, and the format of a list's tasks file. Pure: config_dir.h reads
// and writes these; allocator.h, pool_layout.h and report.h compute on them.
#pragma once

#include <sys/types.h>

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "cpuset.h"
#include "names.h"

namespace kcm {

struct CpuList {
  CpuListName name;          // the directory name, exactly as written ("4,12", "0-2,8-10")
  CpuSet cpus;               // what the name stands for
  std::vector<pid_t> tasks;  // in file order
};

struct Pool {
  PoolName name;
  bool exclusive = false;
  std::map<CpuListName, CpuList, std::less<>> lists;  // by name, found by name or text
};

struct Config {
  std::map<PoolName, Pool, std::less<>> pools;  // by name, found by name or text
};

// Parses a tasks file: "" or "2000,2001" (a trailing newline is tolerated). Throws Error
// naming `display`.
std::vector<pid_t> parse_tasks(const std::string& text, const std::string& display);
std::string format_tasks(const std::vector<pid_t>& tasks);

}  // namespace kcm
