#include "lock.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
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

// Printed the way the holder's main prints its errors: "kcm: error: ..." for the CLI
// ("kcm isolate"), "kcm-hook: ..." for the others.
void arm_watchdog(const std::string& lock_path, const std::string& program,
                  std::chrono::milliseconds timeout) {
  const std::string name = program.substr(0, program.find(' '));
  std::string msg = name + (name == "kcm" ? ": error: " : ": ") + "held lock " + quote(lock_path) +
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

std::string holder_of(int fd) {
  char buf[256];
  ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
  if (n <= 0) return "an unknown holder";
  std::string holder(buf, static_cast<std::size_t>(n));
  while (!holder.empty() && (holder.back() == '\n' || holder.back() == '\0')) holder.pop_back();
  return holder.empty() ? "an unknown holder" : "pid " + holder;
}

}  // namespace

DirLock DirLock::acquire(int conf_dirfd, const std::string& conf_path, LockMode mode,
                         const std::string& program, std::chrono::milliseconds timeout) {
  const std::string path = join_path(conf_path, "lock");
  int fd = ::openat(conf_dirfd, "lock", O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
  if (fd < 0 && (errno == EROFS || errno == EACCES) && mode == LockMode::kShared) {
    // A read-only mount of the directory still allows readers to lock.
    fd = ::openat(conf_dirfd, "lock", O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  }
  if (fd < 0) {
    if (errno == ELOOP) throw op_error("open", path, "is a symlink, refusing to follow it");
    throw sys_error("open", path, errno);
  }
  DirLock lock;
  lock.fd_ = UniqueFd(fd);
  const int op = (mode == LockMode::kExclusive ? LOCK_EX : LOCK_SH) | LOCK_NB;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  auto pause = std::chrono::microseconds(200);
  while (::flock(fd, op) != 0) {
    if (errno == EINTR) continue;
    if (errno != EWOULDBLOCK) throw sys_error("lock", path, errno);
    if (std::chrono::steady_clock::now() >= deadline) {
      throw op_error("lock", path,
                     "timed out after " + format_seconds(timeout) +
                         " s (KCM_LOCK_TIMEOUT) waiting for " + holder_of(fd));
    }
    std::this_thread::sleep_for(pause);
    pause = std::min(pause * 2, std::chrono::microseconds(20000));
  }
  if (mode == LockMode::kExclusive) {
    const std::string holder = std::to_string(::getpid()) + " " + program + "\n";
    if (::ftruncate(fd, 0) == 0) {
      ssize_t ignored = ::pwrite(fd, holder.data(), holder.size(), 0);
      (void)ignored;  // diagnostics only
    }
    arm_watchdog(path, program, timeout);
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

std::chrono::milliseconds lock_timeout_from_env() {
  const char* value = std::getenv("KCM_LOCK_TIMEOUT");
  if (value == nullptr || *value == '\0') return std::chrono::seconds(30);
  char* end = nullptr;
  errno = 0;
  double seconds = std::strtod(value, &end);
  if (errno != 0 || end == value || *end != '\0' || !std::isfinite(seconds) || seconds <= 0 ||
      seconds > 86400) {
    throw usage_error("KCM_LOCK_TIMEOUT: " + quote(value) +
                      " is not a number of seconds between 0 and 86400");
  }
  return std::chrono::milliseconds(static_cast<long long>(std::ceil(seconds * 1000)));
}

}  // namespace kcm
