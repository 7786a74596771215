// The config directory's lock: flock(2) on <conf>/lock.
//
// Writers take it exclusively, readers (describe, node-report, discover) shared. The
// file is opened only when it is a regular file with one name; it is never truncated or
// written unless it is. A writer creates it (O_EXCL, 0600) when missing and sets an
// existing one to 0600: flock needs only a read descriptor, so a lock file others can
// open is a lock others can hold. A reader never creates it, and goes without the lock
// when the file is missing (a directory no kcm writer has touched yet) or it may not open
// it (not root): every file is replaced atomically, so each file it reads is whole.
//
// The wait is bounded by a timeout (KCM_LOCK_TIMEOUT); past it acquire() throws an Error
// naming the lock file and the processes that hold it, from <procfs>/locks. While held
// exclusively, a watchdog bounds the hold time too: if the holder is still inside after
// the timeout it prints why and exits 1 (the kernel drops the lock with the process, and
// every write kcm makes is atomic, so the directory stays readable). The kernel also
// drops the lock of a holder that dies, so SIGKILL never wedges the directory. Not
// thread-safe: one lock per process at a time.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "fs.h"

namespace kcm {

enum class LockMode { kShared, kExclusive };

// Who takes the lock, and how long it may wait for it and hold it.
struct LockOptions {
  std::string program;       // recorded in the lock file: "kcm-hook", "kcm isolate"
  std::string error_prefix;  // begins the watchdog's message as the program's errors begin
  std::chrono::milliseconds timeout{30000};  // Settings::lock_timeout()
  std::string procfs_root = "/proc";         // where a timeout looks up the lock's holders
};

class DirLock {
 public:
  // An exclusive holder records "<pid> <program>\n" in the lock file for diagnostics.
  static DirLock acquire(int conf_dirfd, const std::string& conf_path, LockMode mode,
                         const LockOptions& options);

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

// Whether <conf>/lock is what kcm leaves there: a regular file with one name holding
// nothing or an exclusive holder's "<pid> <program>\n". `kcm init` accepts only such a
// file in the directory it is given.
bool is_kcm_lock_file(int conf_dirfd);

// The PIDs that hold flock(2) locks on the file `dev`/`ino`, from the text of
// /proc/locks (waiters, marked "->", hold nothing), in the order listed.
std::vector<pid_t> flock_holders(std::string_view proc_locks, dev_t dev, ino_t ino);

}  // namespace kcm
