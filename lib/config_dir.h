// The kcm configuration directory (docs/config.md):
//
//   <conf>/lock                          flock target, see lock.h
//   <conf>/pools/<pool>/exclusive        "1" exclusive, "0" shared
//   <conf>/pools/<pool>/<cpulist>/tasks  comma-separated host PIDs, "" when free
//   <conf>/owners/<owner>.json           see owner.h
//
// Names are names.h values, valid before they become paths, and nothing is followed
// through a symlink: every access is openat(2) relative to the directory's fd with
// O_NOFOLLOW.
// Every write is atomic (fs.h write_file_atomic); dot-named entries are temp files
// of an interrupted writer and are skipped. Callers hold the lock (lock()) around a
// read-modify-write; the class itself keeps no state but the directory fd and, between
// lock_for_writing and the first write, the boot to mark (boot.h). Modes: the
// directory and pools/ tree 0755 with files 0644 (the original format is world-readable),
// lock 0600 (lock.h), owners/ 0700 (records are private; writers close an older, open one).
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "fs.h"
#include "lock.h"
#include "names.h"
#include "owner.h"
#include "pools.h"

namespace kcm {

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

  // What every writer takes: the exclusive lock, after which the tasks files and owner
  // records are of this boot (boot.h: those of an earlier boot are forgotten, unread,
  // first; an unmarked directory is marked, durably, at its first write_tasks or
  // write_owner). `options.procfs_root` gives the boot id.
  DirLock lock_for_writing(const LockOptions& options) const;

  // Whether the tasks files and owner records are of an earlier boot than the one
  // `procfs_root` tells (boot.h): every process they name is gone. For readers, which
  // may not change that.
  bool records_of_earlier_boot(const std::string& procfs_root) const;

  // Whole snapshot. Throws Error naming the first file that is missing, malformed, a
  // symlink or of an unexpected type, or the first entry whose name is not a pool's or a
  // CPU list's (names.h). With kNone the tasks files are not read and every list reads as
  // free: for records of an earlier boot, which a power loss may have left as anything.
  enum class Tasks { kAsRecorded, kNone };
  Config read(Tasks tasks = Tasks::kAsRecorded) const;
  // Whether pools/<name> exists (as anything: read_pool judges what it is).
  bool has_pool(const PoolName& name) const;
  // One pool; throws `pool "x" does not exist in "/etc/kcm"`, a not-found Error (exit 1),
  // when absent.
  Pool read_pool(const PoolName& name) const;

  void write_tasks(const PoolName& pool, const CpuListName& list,
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

  std::string pool_path(const PoolName& pool) const;

  // Under the exclusive lock no writer is active, so every dot-named temp file in pools/
  // and owners/ is the leftover of a writer that was killed. Removes them; returns how
  // many. (Readers already skip them; this keeps them from piling up.)
  int remove_stale_temp_files() const;

 private:
  ConfigDir(std::string path, UniqueFd fd) : path_(std::move(path)), fd_(std::move(fd)) {}
  UniqueFd open_pool(int pools_fd, const PoolName& name) const;
  Pool read_pool_at(int pool_fd, const PoolName& name, Tasks tasks) const;
  std::optional<UniqueFd> open_owners(bool create) const;

  std::string path_;
  void mark_boot_before_writing() const;

  UniqueFd fd_;
  mutable std::optional<std::string> unmarked_boot_;
};

}  // namespace kcm
