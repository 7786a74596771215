// The kcm configuration directory (docs/config.md):
//
//   <conf>/lock                          flock target, see lock.h
//   <conf>/pools/<pool>/exclusive        "1" exclusive, "0" shared
//   <conf>/pools/<pool>/<cpulist>/tasks  comma-separated host PIDs, "" when free
//   <conf>/owners/<owner>.json           see owner.h
//
// Names are validated before they become paths and nothing is followed through a
// symlink: every access is openat(2) relative to the directory's fd with O_NOFOLLOW.
// Every write is crash-safe (fs.h write_file_atomic); dot-named entries are temp files
// of an interrupted writer and are skipped. Callers hold the lock (lock()) around a
// read-modify-write; the class itself keeps no state but the directory fd. Modes: the
// directory and pools/ tree 0755 with files 0644 (the original format is world-readable),
// lock 0600 (lock.h), owners/ 0700 (records are private; writers close an older, open one).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cpuset.h"
#include "fs.h"
#include "lock.h"
#include "owner.h"

namespace kcm {

struct CpuList {
  std::string name;  // the directory name, exactly as written ("4,12", "0-2,8-10")
  CpuSet cpus;
  std::vector<pid_t> tasks;  // in file order
};

struct Pool {
  std::string name;
  bool exclusive = false;
  std::map<std::string, CpuList> lists;  // by name
};

struct Config {
  std::map<std::string, Pool> pools;  // by name
};

// Pool names: [a-z0-9][a-z0-9_-]{0,62}. CPU list names: digits, ',' and '-' that parse
// as a non-empty CPU list. Both throw a usage Error naming the value.
void validate_pool_name(const std::string& name);
CpuSet validate_cpu_list_name(const std::string& name);

// Parses a tasks file: "" or "2000,2001" (a trailing newline is tolerated). Throws.
std::vector<pid_t> parse_tasks(const std::string& text, const std::string& display);
std::string format_tasks(const std::vector<pid_t>& tasks);

class ConfigDir {
 public:
  // Opens an existing configuration: a directory (the path may be a symlink, an
  // operator's choice) holding a pools/ directory. Throws naming the path when it is
  // missing or is not one, before anything can be written into it.
  static ConfigDir open(const std::string& path);

  // `kcm init`: creates `path` when missing (its parent must exist), refuses it, changing
  // nothing, when it holds anything but what an interrupted init leaves (a lock file
  // lock.h is_kcm_lock_file accepts, a .pools.tmp-* directory), then builds pools/ under
  // a temp name inside it and renames it into place (the directory itself may be a bind
  // mount, so it cannot be renamed). `lock`: how init takes the directory's lock.
  static void create(const std::string& path, const Config& layout, const LockOptions& lock);

  const std::string& path() const { return path_; }
  int fd() const { return fd_.get(); }

  DirLock lock(LockMode mode, const LockOptions& options) const;

  // Whole snapshot. Throws Error naming the first file that is missing, malformed, a
  // symlink or of an unexpected type.
  Config read() const;
  // Whether pools/<name> exists (as anything: read_pool judges what it is).
  bool has_pool(const std::string& name) const;
  // One pool; throws `pool "x" does not exist in "/etc/kcm"` (exit 1) when absent.
  Pool read_pool(const std::string& name) const;

  void write_tasks(const std::string& pool, const std::string& list,
                   const std::vector<pid_t>& tasks) const;

  // The record stored under `owner`'s name (owner.h owner_file_stem), whichever owner it
  // records: whether it is `owner`'s own is the caller's rule (reservation.h).
  std::optional<Owner> read_owner(const std::string& owner) const;
  // Every record stored under its own owner's name; a record that cannot be parsed
  // throws naming its file. A record under another name (made by hand, or by a kcm that
  // named records otherwise) is skipped and described in `misnamed`.
  std::vector<Owner> read_owners(std::vector<std::string>* misnamed = nullptr) const;
  void write_owner(const Owner& owner) const;
  void remove_owner(const std::string& owner) const;

  std::string pool_path(const std::string& pool) const;

  // Under the exclusive lock no writer is active, so every dot-named temp file in pools/
  // and owners/ is the leftover of a writer that was killed. Removes them; returns how
  // many. (Readers already skip them; this keeps them from piling up.)
  int remove_stale_temp_files() const;

 private:
  ConfigDir(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  Pool read_pool_at(int pools_fd, const std::string& name) const;
  std::optional<UniqueFd> open_owners(bool create) const;

  std::string path_;
  UniqueFd fd_;
};

}  // namespace kcm
