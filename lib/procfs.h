// Process information from a procfs mount.
//
// The root is a parameter: "$KCM_PROC_FS" for the CLI (a container sees the host's
// /proc there), "/proc" by default, a fixture directory in tests. Methods are const and
// thread-safe; a process may vanish between two calls, which reads as "gone", never as
// an error.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "cpuset.h"

namespace kcm {

class Procfs {
 public:
  explicit Procfs(std::string root = "/proc") : root_(std::move(root)) {}
  Procfs(const Procfs& other) : root_(other.root_), kind_(other.kind_.load()) {}
  Procfs& operator=(const Procfs& other) {
    root_ = other.root_;
    kind_ = other.kind_.load();
    return *this;
  }

  const std::string& root() const { return root_; }

  // The caller's PID as this procfs numbers it: the first field of <root>/self/stat.
  // Inside a container with the host's /proc mounted, that is the host PID.
  pid_t self_pid() const;

  // Field 22 of <root>/<pid>/stat (start time in clock ticks since boot); nullopt when
  // there is no such process or it is a zombie. Throws Error naming the file when it
  // cannot be read or parsed.
  std::optional<std::uint64_t> start_time(pid_t pid) const;

  // What this procfs proves about a PID. CPUs may be taken from a holder only when it is
  // provably gone, or provably another process (alive with another start time): a PID
  // whose directory exists but whose stat cannot be read (another mount's permissions, a
  // fixture tree with only a status file) is kUnknown, and callers keep it.
  enum class Liveness { kGone, kAlive, kUnknown };
  struct Status {
    Liveness liveness = Liveness::kGone;
    std::uint64_t start_time = 0;  // when kAlive
  };
  // kGone: no <root>/<pid> directory, or a zombie (it has exited; only its entry remains).
  // A gone PID costs one failed open on a procfs mount (whose <pid> directory never lacks
  // a stat file) and a stat of the directory elsewhere; the root's file system type is
  // asked once per object.
  Status status(pid_t pid) const;

  // Cpus_allowed_list of <root>/<pid>/status; nullopt when the process is gone.
  std::optional<CpuSet> cpus_allowed(pid_t pid) const;

  // Thread ids in <root>/<pid>/task; empty when the process is gone.
  std::vector<pid_t> threads(pid_t pid) const;

  // Path of a file under <root>/<pid>/ (or <root>/self/ for pid 0).
  std::string path(pid_t pid, const std::string& file) const;

 private:
  // Whether root_ is a procfs mount; statfs at the first call, then remembered.
  bool on_procfs() const;

  std::string root_;
  enum Kind : int { kNotAsked, kProc, kOther };
  mutable std::atomic<int> kind_{kNotAsked};
};

// Whether a holder recorded with `recorded_start` has provably left its CPUs: its PID is
// gone, or alive with another start time (the PID was reused).
bool holder_gone(const Procfs::Status& status, std::uint64_t recorded_start);

// Parses the text of a /proc/<pid>/stat file. The command name may hold spaces and
// parentheses, so fields are counted after its last ')'. Throws Error on malformed text.
struct ProcStat {
  pid_t pid = 0;
  char state = '?';
  std::uint64_t start_time = 0;
};
ProcStat parse_proc_stat(const std::string& text, const std::string& display);

}  // namespace kcm
