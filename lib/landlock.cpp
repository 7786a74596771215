#include "landlock.h"

#include <fcntl.h>
#include <linux/landlock.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "error.h"
#include "fs.h"

// Rights of ABI 3 (Linux 6.2) and ABI 5 (Linux 6.10), newer than Debian 12's uapi header;
// the values are the kernel's.
#ifndef LANDLOCK_ACCESS_FS_TRUNCATE
#define LANDLOCK_ACCESS_FS_TRUNCATE (1ULL << 14)
#endif
#ifndef LANDLOCK_ACCESS_FS_IOCTL_DEV
#define LANDLOCK_ACCESS_FS_IOCTL_DEV (1ULL << 15)
#endif

// Defined by the ASan/UBSan runtime of the sanitizer build; null in every other build.
// NOLINTNEXTLINE(bugprone-reserved-identifier,readability-identifier-naming): its name
extern "C" const char* __sanitizer_get_report_path() __attribute__((weak));

namespace kcm {
namespace {

constexpr std::uint64_t kRead = LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_READ_DIR;
// write_file_atomic: a temp file created, written (O_TRUNC), renamed over the old one in
// the same directory, a failed one removed; owners/ created on first use; the lock file
// truncated before its holder is written. REFER lets a rename cross directories inside
// the conf dir (ABI 1 refuses every cross-directory rename; from ABI 2 only those that
// leave it).
constexpr std::uint64_t kConfDir = kRead | LANDLOCK_ACCESS_FS_WRITE_FILE |
                                   LANDLOCK_ACCESS_FS_TRUNCATE | LANDLOCK_ACCESS_FS_MAKE_REG |
                                   LANDLOCK_ACCESS_FS_MAKE_DIR | LANDLOCK_ACCESS_FS_REMOVE_FILE |
                                   LANDLOCK_ACCESS_FS_REFER;
// cgroup.h write_cpuset and write_cpuset_mems (memory: local): cpuset.cpus and cpuset.mems
// opened O_WRONLY|O_TRUNC, then read back.
constexpr std::uint64_t kCgroupFiles =
    LANDLOCK_ACCESS_FS_READ_FILE | LANDLOCK_ACCESS_FS_WRITE_FILE | LANDLOCK_ACCESS_FS_TRUNCATE;

// Every file right the kernel's ABI knows, so that each is denied unless a rule grants
// it. A right outside the ABI makes landlock_create_ruleset fail with EINVAL.
std::uint64_t handled_rights(int abi) {
  // ABI 1: EXECUTE through MAKE_SYM, bits 0 to 12.
  std::uint64_t rights = (LANDLOCK_ACCESS_FS_MAKE_SYM << 1) - 1;
  if (abi >= 2) rights |= LANDLOCK_ACCESS_FS_REFER;
  if (abi >= 3) rights |= LANDLOCK_ACCESS_FS_TRUNCATE;
  // ABI 4 added network rights and 6 scopes, neither about files; the seccomp filter
  // already denies sockets and signals to other processes.
  if (abi >= 5) rights |= LANDLOCK_ACCESS_FS_IOCTL_DEV;
  return rights;
}

void allow_beneath(int ruleset, const std::string& dir, std::uint64_t rights) {
  // O_PATH: the rule names the directory, reading it is not needed (nor checked).
  UniqueFd fd(::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!fd.valid()) return;  // the caller's own open reports why
  landlock_path_beneath_attr rule{};
  rule.allowed_access = rights;
  rule.parent_fd = fd.get();
  if (::syscall(SYS_landlock_add_rule, ruleset, LANDLOCK_RULE_PATH_BENEATH, &rule, 0) != 0) {
    throw sys_error("add Landlock rule for", dir, errno);
  }
}

}  // namespace

int landlock_abi() {
  long abi = ::syscall(SYS_landlock_create_ruleset, nullptr, 0, LANDLOCK_CREATE_RULESET_VERSION);
  if (abi >= 0) return static_cast<int>(abi);
  // ENOSYS: built without Landlock; EOPNOTSUPP: built in but not enabled at boot (lsm=).
  if (errno == ENOSYS || errno == EOPNOTSUPP) return 0;
  throw sys_error("query", "Landlock ABI version", errno);
}

int confine_hook_file_access(const HookFileAccess& access) {
  const int abi = landlock_abi();
  if (abi == 0) return 0;
  const std::uint64_t handled = handled_rights(abi);
  landlock_ruleset_attr attr{};
  attr.handled_access_fs = handled;
  // The kernel always creates a ruleset fd with O_CLOEXEC.
  UniqueFd ruleset(static_cast<int>(::syscall(SYS_landlock_create_ruleset, &attr, sizeof attr, 0)));
  if (!ruleset.valid()) throw sys_error("create", "Landlock ruleset", errno);
  allow_beneath(ruleset.get(), access.conf_dir, kConfDir & handled);
  if (access.cgroup_dir) allow_beneath(ruleset.get(), *access.cgroup_dir, kCgroupFiles & handled);
  for (const std::string& dir : access.read_only) allow_beneath(ruleset.get(), dir, kRead);
  if (__sanitizer_get_report_path != nullptr) {
    // The sanitizer runtime opens its report file (log_path) at its first report: open it
    // now. At exit LeakSanitizer reads /proc/self/task and maps, whatever $KCM_PROC_FS is,
    // and spins forever when it cannot.
    __sanitizer_get_report_path();
    allow_beneath(ruleset.get(), "/proc", kRead);
  }
  if (::syscall(SYS_landlock_restrict_self, ruleset.get(), 0) != 0) {
    throw sys_error("restrict file access with", "Landlock ruleset", errno);
  }
  return abi;
}

}  // namespace kcm
