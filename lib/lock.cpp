#include "lock.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <sstream>
#include <thread>

#include "error.h"

namespace kcm {
namespace {

// "30", "0.5": the timeout as a person wrote it.
std::string format_seconds(std::chrono::milliseconds d) {
  std::ostringstream out;
  out << static_cast<double>(d.count()) / 1000.0;
  return out.str();
}

// The watchdog's message is built before the alarm can fire: a signal handler may only
// write(2) and _exit(2).
char g_watchdog_message[512];
std::size_t g_watchdog_length = 0;

void on_hold_timeout(int) {
  ssize_t ignored = ::write(STDERR_FILENO, g_watchdog_message, g_watchdog_length);
  (void)ignored;
  ::_exit(kExitFailure);
}

// Printed the way the holder's main prints its errors (LockOptions::error_prefix).
void arm_watchdog(const std::string& lock_path, const std::string& error_prefix,
                  std::chrono::milliseconds timeout) {
  std::string msg = error_prefix + "held lock " + quote(lock_path) +
                    " longer than " + format_seconds(timeout) +
                    " s (KCM_LOCK_TIMEOUT); giving up\n";
  g_watchdog_length = std::min(msg.size(), sizeof g_watchdog_message);
  std::memcpy(g_watchdog_message, msg.data(), g_watchdog_length);
  struct sigaction sa {};
  sa.sa_handler = on_hold_timeout;
  sigemptyset(&sa.sa_mask);
  ::sigaction(SIGALRM, &sa, nullptr);
  struct itimerval it {};
  it.it_value.tv_sec = timeout.count() / 1000;
  it.it_value.tv_usec = (timeout.count() % 1000) * 1000;
  ::setitimer(ITIMER_REAL, &it, nullptr);
}

void disarm_watchdog() {
  struct itimerval it {};
  ::setitimer(ITIMER_REAL, &it, nullptr);
}

constexpr const char* kLockName = "lock";
// A holder record is "<pid> <program>\n"; programs are short names like "kcm isolate".
constexpr std::size_t kMaxRecord = 256;

struct HolderRecord {
  pid_t pid = 0;
  std::string program;
};

// The record is the file's first line: a holder writes its record over the last one and
// then cuts the file to length (write_holder_record), so for a moment, or for good if it
// is killed in between, the old record's tail follows it.
std::optional<HolderRecord> parse_holder_record(std::string_view text) {
  const std::size_t newline = text.find('\n');
  if (newline == std::string_view::npos) return std::nullopt;
  text = text.substr(0, newline);
  const std::size_t space = text.find(' ');
  if (space == std::string_view::npos) return std::nullopt;
  HolderRecord record;
  auto [end, ec] = std::from_chars(text.data(), text.data() + space, record.pid);
  const std::string_view program = text.substr(space + 1);
  auto printable = [](char c) { return c >= ' ' && c <= '~'; };
  if (ec != std::errc() || end != text.data() + space || record.pid <= 0 || program.empty() ||
      !std::all_of(program.begin(), program.end(), printable)) {
    return std::nullopt;
  }
  record.program = program;
  return record;
}

// Up to kMaxRecord + 1 bytes, so a caller can tell a longer file from a record.
std::string lock_file_text(int fd) {
  char buf[kMaxRecord + 1];
  ssize_t n = ::pread(fd, buf, sizeof buf, 0);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

// For a diagnostic: a file that cannot be read is left out of the message, never an error
// that would replace it.
std::optional<std::string> read_for_message(const std::string& path) {
  try {
    return if_found([&] { return read_file(path); });
  } catch (const Error&) {
    return std::nullopt;
  }
}

// "pid 812 (flock), pid 907 (kcm isolate)": who holds the lock file's inode, as
// <procfs>/locks lists it. The record in the file outlives its writer, so it names a
// holder only when its PID is one of them; the others are named by their comm.
std::string holders_of(int fd, const std::string& procfs_root) {
  const std::string locks_path = join_path(procfs_root, "locks");
  struct stat st;
  std::optional<std::string> locks;
  if (::fstat(fd, &st) == 0) locks = read_for_message(locks_path);
  if (!locks) return "a holder (" + quote(locks_path) + " is unreadable)";
  const std::vector<pid_t> pids = flock_holders(*locks, st.st_dev, st.st_ino);
  if (pids.empty()) return "a holder that " + quote(locks_path) + " does not list";
  const std::optional<HolderRecord> record = parse_holder_record(lock_file_text(fd));
  std::string out;
  for (pid_t pid : pids) {
    if (!out.empty()) out += ", ";
    out += "pid " + std::to_string(pid);
    std::string name;
    if (record && record->pid == pid) {
      name = record->program;
    } else if (auto comm =
                   read_for_message(join_path(procfs_root, std::to_string(pid) + "/comm"))) {
      name = *comm;
      while (!name.empty() && name.back() == '\n') name.pop_back();
    }
    if (!name.empty()) out += " (" + name + ")";
  }
  return out;
}

// Opens the lock file for `mode` as lock.h says; an invalid fd when a reader goes without.
UniqueFd open_lock_file(int conf_dirfd, const std::string& path, LockMode mode) {
  const bool writer = mode == LockMode::kExclusive;
  // O_NONBLOCK: a FIFO planted as the lock fails the type check instead of blocking open.
  const int flags = (writer ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK;
  int fd = ::openat(conf_dirfd, kLockName, flags);
  if (fd < 0 && errno == ENOENT && writer) {
    fd = ::openat(conf_dirfd, kLockName, flags | O_CREAT | O_EXCL, 0600);
    // Another writer created it in between: use theirs.
    if (fd < 0 && errno == EEXIST) fd = ::openat(conf_dirfd, kLockName, flags);
  }
  if (fd < 0) {
    if (!writer && (errno == ENOENT || errno == EACCES)) return UniqueFd();
    if (errno == ELOOP) throw op_error("open", path, "is a symlink, refusing to follow it");
    throw sys_error("open", path, errno);
  }
  UniqueFd owned(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0) throw sys_error("stat", path, errno);
  if (!S_ISREG(st.st_mode)) throw op_error("open", path, "is not a regular file");
  if (writer) {
    // Another name of the inode may be a file outside the directory, which the holder
    // record would overwrite.
    if (st.st_nlink != 1) {
      throw op_error(
          "open", path,
          "has " + std::to_string(st.st_nlink) + " names (a hard link), refusing to write to it");
    }
    if ((st.st_mode & 07777) != 0600 && ::fchmod(fd, 0600) != 0) {
      throw sys_error("chmod", path, errno);
    }
  }
  return owned;
}

// Diagnostics only, so failures are ignored. Written over the old record and cut to length
// only when the old one was longer: on ext4 a truncation to zero marks the file for
// writeback at its close, and the next holder's truncation then waited for that disk
// write (about 1.3 ms per lock taken, measured on this project's test VM).
void write_holder_record(int fd, const std::string& record) {
  if (::pwrite(fd, record.data(), record.size(), 0) != static_cast<ssize_t>(record.size())) return;
  struct stat st;
  if (::fstat(fd, &st) == 0 && st.st_size > static_cast<off_t>(record.size())) {
    int ignored = ::ftruncate(fd, static_cast<off_t>(record.size()));
    (void)ignored;
  }
}

// A one-shot SIGALRM for the calling thread only, with a handler that does nothing and
// without SA_RESTART: a blocking flock(2) in this thread returns EINTR when it fires. The
// signal's previous disposition is back when this goes; the timer never outlives it.
class WaitAlarm {
 public:
  // `after` > 0. The alarm repeats every kRepeat after it: one that came before the
  // thread was inside flock(2) would otherwise be spent, and the wait unbounded.
  explicit WaitAlarm(std::chrono::milliseconds after) {
    struct sigaction sa {};
    sa.sa_handler = [](int) {};
    sigemptyset(&sa.sa_mask);
    if (::sigaction(SIGALRM, &sa, &previous_) != 0) return;
    // A mask inherited across exec may block SIGALRM: unblocked for the wait.
    sigset_t alarm;
    sigemptyset(&alarm);
    sigaddset(&alarm, SIGALRM);
    ::pthread_sigmask(SIG_UNBLOCK, &alarm, &previous_mask_);
    struct sigevent ev {};
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = SIGALRM;
    ev._sigev_un._tid = ::gettid();
    const struct itimerspec when = spec(after, kRepeat);
    armed_ = ::timer_create(CLOCK_MONOTONIC, &ev, &timer_) == 0;
    if (armed_ && ::timer_settime(timer_, 0, &when, nullptr) != 0) {
      ::timer_delete(timer_);
      armed_ = false;
    }
    if (!armed_) restore();
  }
  WaitAlarm(const WaitAlarm&) = delete;
  WaitAlarm& operator=(const WaitAlarm&) = delete;
  ~WaitAlarm() {
    if (!armed_) return;
    // A signal the timer raised is delivered, to the empty handler, by the time
    // timer_delete returns to user space (SIGALRM is unblocked): none is left for the
    // restored disposition.
    ::timer_delete(timer_);
    restore();
  }
  bool armed() const { return armed_; }

 private:
  static constexpr std::chrono::milliseconds kRepeat{10};

  static struct itimerspec spec(std::chrono::milliseconds first,
                                std::chrono::milliseconds every) {
    struct itimerspec when {};
    when.it_value.tv_sec = first.count() / 1000;
    when.it_value.tv_nsec = (first.count() % 1000) * 1000000;
    when.it_interval.tv_nsec = every.count() * 1000000;
    return when;
  }
  void restore() {
    ::sigaction(SIGALRM, &previous_, nullptr);
    ::pthread_sigmask(SIG_SETMASK, &previous_mask_, nullptr);
  }

  struct sigaction previous_ {};
  sigset_t previous_mask_{};
  timer_t timer_{};
  bool armed_ = false;
};

// Takes flock(2) `op` on `fd` within `timeout`; false when it timed out. A free lock costs
// one call. Otherwise the wait is in flock itself, so the kernel hands the lock to a
// waiter the moment its holder lets go. Polling (as this did, sleeping up to 20 ms
// between tries) left the lock free while every waiter slept: with 8 hooks on one
// directory a node managed about a hundred allocations a second. Only when the thread's
// timer cannot be had does it poll, with short pauses.
bool take_lock(int fd, int op, const std::string& path, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto left = [&] {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
  };
  while (::flock(fd, op | LOCK_NB) != 0) {
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) throw sys_error("lock", path, errno);
    const std::chrono::milliseconds rest = left();
    if (rest.count() <= 0) return false;
    WaitAlarm alarm(rest);
    if (!alarm.armed()) {
      std::this_thread::sleep_for(std::chrono::microseconds(500));
      continue;
    }
    if (::flock(fd, op) == 0) return true;
    if (errno != EINTR) throw sys_error("lock", path, errno);
    // The alarm, or another signal: look at the time left, and wait again with a new alarm.
  }
  return true;
}

}  // namespace

std::vector<pid_t> flock_holders(std::string_view proc_locks, dev_t dev, ino_t ino) {
  // "1: FLOCK  ADVISORY  WRITE 812 08:01:1318 0 EOF": the device's major and minor in
  // hex, the inode in decimal. A waiter's line reads "1: -> FLOCK ...".
  std::vector<pid_t> out;
  std::istringstream lines{std::string(proc_locks)};
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream fields(line);
    std::string id, type, kind, access, pid_text, file;
    if (!(fields >> id >> type >> kind >> access >> pid_text >> file) || type != "FLOCK") continue;
    pid_t pid = 0;
    unsigned int major_id = 0, minor_id = 0;
    unsigned long long inode = 0;
    const char* p = file.data();
    const char* end = p + file.size();
    auto [a, ea] = std::from_chars(p, end, major_id, 16);
    if (ea != std::errc() || a == end || *a != ':') continue;
    auto [b, eb] = std::from_chars(a + 1, end, minor_id, 16);
    if (eb != std::errc() || b == end || *b != ':') continue;
    auto [c, ec] = std::from_chars(b + 1, end, inode);
    const char* pid_end = pid_text.data() + pid_text.size();
    auto [d, ed] = std::from_chars(pid_text.data(), pid_end, pid);
    if (ec != std::errc() || c != end || ed != std::errc() || d != pid_end || pid <= 0) continue;
    if (major_id == major(dev) && minor_id == minor(dev) && inode == ino) out.push_back(pid);
  }
  return out;
}

bool is_kcm_lock_file(int conf_dirfd) {
  int fd = ::openat(conf_dirfd, kLockName, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
  if (fd < 0) return false;
  UniqueFd owned(fd);
  struct stat st;
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_nlink != 1) return false;
  const std::string text = lock_file_text(fd);
  if (text.size() != static_cast<std::size_t>(st.st_size)) return false;
  if (text.empty()) return true;
  // A record, and at most the tail of a longer one it was written over.
  const std::string_view rest = std::string_view(text).substr(text.find('\n') + 1);
  return parse_holder_record(text).has_value() &&
         (rest.empty() || (rest.find('\n') == rest.size() - 1));
}

DirLock DirLock::acquire(int conf_dirfd, const std::string& conf_path, LockMode mode,
                         const LockOptions& options) {
  const std::chrono::milliseconds timeout = options.timeout;
  const std::string path = join_path(conf_path, kLockName);
  DirLock lock;
  lock.fd_ = open_lock_file(conf_dirfd, path, mode);
  if (!lock.fd_.valid()) return lock;
  const int fd = lock.fd_.get();
  const int op = mode == LockMode::kExclusive ? LOCK_EX : LOCK_SH;
  if (!take_lock(fd, op, path, timeout)) {
    throw op_error("lock", path,
                   "timed out after " + format_seconds(timeout) +
                       " s (KCM_LOCK_TIMEOUT) waiting for " + holders_of(fd, options.procfs_root));
  }
  if (mode == LockMode::kExclusive) {
    write_holder_record(fd, std::to_string(::getpid()) + " " + options.program + "\n");
    arm_watchdog(path, options.error_prefix, timeout);
    lock.watchdog_ = true;
  }
  return lock;
}

void DirLock::release() {
  if (!fd_.valid()) return;
  if (watchdog_) disarm_watchdog();
  watchdog_ = false;
  ::flock(fd_.get(), LOCK_UN);
  fd_ = UniqueFd();
}

DirLock::~DirLock() { release(); }

}  // namespace kcm
