// The config directory's lock: flock(2) on <conf>/lock.
//
// Writers take it exclusively, readers (describe, node-report) shared. The wait is
// bounded by a timeout (KCM_LOCK_TIMEOUT); past it acquire() throws an Error naming the
// lock file and the holder it records. While held exclusively, a watchdog bounds the hold
// time too: if the holder is still inside after the timeout it prints why and exits 1
// (the kernel drops the lock with the process, and every write kcm makes is atomic, so
// the directory stays readable). The kernel also drops the lock of a holder that dies,
// so SIGKILL never wedges the directory. Not thread-safe: one lock per process at a time.
#pragma once

#include <chrono>
#include <string>

#include "fs.h"

namespace kcm {

enum class LockMode { kShared, kExclusive };

class DirLock {
 public:
  // `program` is recorded in the lock file as "<pid> <program>" for diagnostics.
  static DirLock acquire(int conf_dirfd, const std::string& conf_path, LockMode mode,
                         const std::string& program, std::chrono::milliseconds timeout);

  DirLock(DirLock&&) noexcept = default;
  DirLock& operator=(DirLock&&) noexcept = default;
  ~DirLock();

  // Releases early; the destructor then does nothing.
  void release();

 private:
  DirLock() = default;
  UniqueFd fd_;
  bool watchdog_ = false;
};

// KCM_LOCK_TIMEOUT in seconds (a positive number, fractions allowed), default 30.
// Throws a usage Error for anything else.
std::chrono::milliseconds lock_timeout_from_env();

}  // namespace kcm
