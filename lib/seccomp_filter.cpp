#include "seccomp_filter.h"

#include <sched.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>

#include "error.h"

namespace kcm {
namespace {

// What the hook's path reaches through glibc, libstdc++, spdlog and nlohmann (checked
// with strace over the e2e runs): memory, files and directories, flock, fsync+rename for
// crash-safe writes, the lock's SIGALRM watchdog and sleeps, /proc reads, affinity.
//
// Left out on purpose, because each would let a subverted hook act as root beyond its
// container, and the hook does not need it:
//   execve, execveat, fork, clone, ptrace   running or steering another program.
//   socket, connect                         a container engine's API socket (docker.sock,
//                                           containerd.sock, podman.sock) is root code
//                                           execution, and seccomp cannot read connect's
//                                           path. syslog's socket is connected before the
//                                           filter (log.h); sendto on it is all syslog()
//                                           needs, so sendmsg is out too.
//   link, linkat, symlink, symlinkat,       a link planted where a privileged writer
//   mknod, mknodat                          looks, a device node onto a disk or memory.
//   chmod, fchmodat, chown family           Landlock does not confine mode changes. The
//                                           hook sets modes only by fd, on what it made
//                                           in the conf dir (0644, 0600, 0700): fchmod is
//                                           allowed without setuid, setgid, sticky,
//                                           group- or other-write bits (below).
//   rmdir, umask                            unused: the hook removes only files.
// Creating, writing, removing and renaming files stay allowed here; Landlock
// (landlock.h) confines them to the hook's roots once it knows its container, so the
// three landlock syscalls are allowed: they only ever take rights away.
// One line per group of syscalls reads better than one per line:
// clang-format off
constexpr const char* kAllowed[] = {
    // process and memory
    "exit", "exit_group", "brk", "mmap", "munmap", "mremap", "mprotect", "madvise",
    "futex", "set_robust_list", "rseq", "getrandom", "getpid", "gettid", "getppid",
    "getuid", "geteuid", "getgid", "getegid", "prlimit64", "uname", "sysinfo",
    "restart_syscall", "sched_yield",
    // signals and time (the lock watchdog, the lock wait's alarm, abort)
    "rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "sigaltstack", "setitimer",
    "getitimer", "alarm", "nanosleep", "clock_nanosleep", "clock_gettime", "gettimeofday",
    "time", "timer_create", "timer_settime", "timer_delete",
    // files and directories
    "read", "write", "readv", "writev", "pread64", "pwrite64", "lseek", "open", "openat",
    "close", "fstat", "stat", "lstat", "newfstatat", "statx", "fstatfs", "statfs",
    "access", "faccessat", "faccessat2", "readlink", "readlinkat", "getdents64", "getcwd",
    "fcntl", "dup", "dup2", "dup3", "flock", "fsync", "fdatasync", "ftruncate", "rename",
    "renameat", "renameat2", "unlink", "unlinkat", "mkdir", "mkdirat",
    // file confinement (landlock.h)
    "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self",
    // CPU placement
    "sched_setaffinity", "sched_getaffinity",
    // syslog over the /dev/log connection log.h makes before the filter
    "sendto",
};
// clang-format on

// gcc says __SANITIZE_ADDRESS__, clang __has_feature(address_sanitizer).
#if defined(__SANITIZE_ADDRESS__)
#define KCM_UNDER_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define KCM_UNDER_ASAN 1
#endif
#endif

#if defined(KCM_UNDER_ASAN)
// Sanitizer builds only (the ASan/UBSan configuration): the sanitizers probe memory
// through a pipe, and LeakSanitizer stops the world at exit with a clone() of flags
// CLONE_VM|CLONE_UNTRACED and ptrace. Release builds never allow any of these.
// clang-format off
constexpr const char* kSanitizerAllowed[] = {
    "pipe", "pipe2", "ptrace", "wait4", "waitid", "prctl", "mincore", "process_vm_readv",
    "getdents",
};
// clang-format on
#endif

constexpr scmp_datum_t kUnsafeModeBits = S_ISUID | S_ISGID | S_ISVTX | S_IWGRP | S_IWOTH;

struct CtxDeleter {
  void operator()(scmp_filter_ctx ctx) const { seccomp_release(ctx); }
};

Error seccomp_failure(const std::string& op, const std::string& object, int rc) {
  // libseccomp returns negated errno values.
  return op_error(op, object, std::strerror(-rc));
}

void allow(scmp_filter_ctx ctx, const char* name) {
  int nr = seccomp_syscall_resolve_name(name);
  if (nr == __NR_SCMP_ERROR) return;  // not a syscall on this architecture
  if (int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0); rc < 0) {
    throw seccomp_failure("allow syscall", name, rc);
  }
}

// libseccomp's SCMP_A0.. macros are C compound literals, which C++ compilers other than
// gcc reject under -Werror; these build the same comparisons.
scmp_arg_cmp arg_equals(unsigned int arg, scmp_datum_t value) {
  return scmp_arg_cmp{arg, SCMP_CMP_EQ, value, 0};
}

void allow_with(scmp_filter_ctx ctx, const char* what, int nr, scmp_arg_cmp cmp) {
  if (int rc = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 1, cmp); rc < 0) {
    throw seccomp_failure("allow syscall", what, rc);
  }
}

}  // namespace

void install_hook_seccomp_filter() {
  std::unique_ptr<void, CtxDeleter> ctx(seccomp_init(SCMP_ACT_ERRNO(EPERM)));
  if (!ctx) throw Error("install seccomp filter: seccomp_init failed");
  for (const char* name : kAllowed) allow(ctx.get(), name);
#if defined(KCM_UNDER_ASAN)
  for (const char* name : kSanitizerAllowed) allow(ctx.get(), name);
  // fork() never passes CLONE_UNTRACED, so it stays denied.
  allow_with(ctx.get(), "clone(CLONE_UNTRACED)", SCMP_SYS(clone),
             scmp_arg_cmp{0, SCMP_CMP_MASKED_EQ, CLONE_UNTRACED, CLONE_UNTRACED});
#endif
  // Rules with one argument pinned: fchmod without kUnsafeModeBits (setuid and setgid
  // make a root-owned program run as root for anyone, sticky changes who may delete in
  // a directory, group and other write hand a root file to other users); isatty() (stdio
  // asks TCGETS, and no other ioctl: TIOCSTI could type into the runtime's terminal);
  // abort() signalling itself, never another process.
  allow_with(ctx.get(), "fchmod(no setuid/setgid/sticky/group-write/other-write)", SCMP_SYS(fchmod),
             scmp_arg_cmp{1, SCMP_CMP_MASKED_EQ, kUnsafeModeBits, 0});
  allow_with(ctx.get(), "ioctl(TCGETS)", SCMP_SYS(ioctl), arg_equals(1, TCGETS));
  allow_with(ctx.get(), "tgkill(self)", SCMP_SYS(tgkill),
             arg_equals(0, static_cast<scmp_datum_t>(::getpid())));
  if (int rc = seccomp_load(ctx.get()); rc < 0) {
    throw seccomp_failure("install seccomp filter", "kcm-hook", rc);
  }
}

}  // namespace kcm
