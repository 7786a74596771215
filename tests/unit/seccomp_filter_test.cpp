#include "seccomp_filter.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/landlock.h>
#include <sched.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <syslog.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <functional>
#include <string>

#include "fs.h"
#include "log.h"
#include "test_support.h"

namespace kcm {
namespace {

using testing_support::TempDir;

sockaddr_un unix_address(const std::string& path) {
  sockaddr_un addr{};
  addr.sun_family = AF_UNIX;
  path.copy(addr.sun_path, sizeof addr.sun_path - 1);
  return addr;
}

constexpr int kSkip = 77;

// Runs `body` in a forked child after installing the filter; the child's exit status is
// the body's result (0: as expected). `prepare`, when given, runs first, unfiltered; its
// nonzero result ends the child. The filter is irreversible, so the test process itself
// never installs it.
int under_filter(const std::function<int()>& body, const std::function<int()>& prepare = {}) {
  pid_t child = ::fork();
  if (child == 0) {
    if (prepare) {
      if (int rc = prepare(); rc != 0) ::_exit(rc);
    }
    try {
      install_hook_seccomp_filter();
    } catch (...) {
      ::_exit(100);
    }
    ::_exit(body());
  }
  int status = 0;
  ::waitpid(child, &status, 0);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 200 + WTERMSIG(status);
}

TEST(SeccompFilterTest, ExecveFailsWithEperm) {
  EXPECT_EQ(under_filter([] {
              char* const argv[] = {const_cast<char*>("/bin/true"), nullptr};
              ::execve("/bin/true", argv, nullptr);
              return errno == EPERM ? 0 : 1;
            }),
            0);
}

TEST(SeccompFilterTest, ExecveatFailsWithEperm) {
  EXPECT_EQ(under_filter([] {
              char* const argv[] = {const_cast<char*>("/bin/true"), nullptr};
              ::execveat(AT_FDCWD, "/bin/true", argv, nullptr, 0);
              return errno == EPERM ? 0 : 1;
            }),
            0);
}

TEST(SeccompFilterTest, InetSocketFailsWithEperm) {
  EXPECT_EQ(under_filter([] {
              int fd = ::socket(AF_INET, SOCK_STREAM, 0);
              return fd < 0 && errno == EPERM ? 0 : 1;
            }),
            0);
}

TEST(SeccompFilterTest, UnixSocketFailsWithEperm) {
  EXPECT_EQ(under_filter([] {
              return ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0) < 0 && errno == EPERM ? 0 : 1;
            }),
            0);
}

// A container engine's API socket stands for root code execution: a socket made before
// the filter must not reach one either.
TEST(SeccompFilterTest, ConnectToAListeningUnixSocketFailsWithEperm) {
  TempDir tmp;
  sockaddr_un addr = unix_address(tmp.path() + "/engine.sock");
  UniqueFd server(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  ASSERT_EQ(::bind(server.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  ASSERT_EQ(::listen(server.get(), 1), 0);
  UniqueFd client(::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0));
  EXPECT_EQ(under_filter([&] {
              int rc = ::connect(client.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr);
              return rc != 0 && errno == EPERM ? 0 : 1;
            }),
            0);
}

// glibc's syslog() sends on the /dev/log connection init_logging made before the filter.
// The child sees, in a private mount namespace, a /dev holding only the test's /dev/log.
TEST(SeccompFilterTest, SyslogConnectedBeforeTheFilterStillDelivers) {
  TempDir dev;
  sockaddr_un addr = unix_address(dev.path() + "/log");
  UniqueFd log(::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0));
  ASSERT_EQ(::bind(log.get(), reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  int rc = under_filter(
      [&] {
        ::syslog(LOG_ERR, "seccomp-test-marker");
        char buf[512] = {};
        ssize_t n = ::read(log.get(), buf, sizeof buf - 1);
        return n > 0 && std::strstr(buf, "kcm-hook[") != nullptr &&
                       std::strstr(buf, "seccomp-test-marker") != nullptr
                   ? 0
                   : 1;
      },
      [&] {
        if (::unshare(CLONE_NEWNS) != 0) return kSkip;
        if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
            ::mount(dev.path().c_str(), "/dev", nullptr, MS_BIND, nullptr) != 0) {
          return 2;
        }
        init_logging("kcm-hook", "warn", /*also_syslog=*/true);
        return 0;
      });
  if (rc == kSkip) GTEST_SKIP() << "needs CAP_SYS_ADMIN for a private mount namespace";
  EXPECT_EQ(rc, 0);
}

TEST(SeccompFilterTest, ForkFailsWithEperm) {
  EXPECT_EQ(under_filter([] {
              pid_t p = ::fork();
              if (p == 0) ::_exit(0);
              return p < 0 && errno == EPERM ? 0 : 1;
            }),
            0);
}

TEST(SeccompFilterTest, FileIoStillWorks) {
  EXPECT_EQ(under_filter([] {
              char path[] = "/tmp/kcm-seccomp-test-XXXXXX";
              int fd = ::mkstemp(path);
              if (fd < 0) return 1;
              bool ok = ::write(fd, "x", 1) == 1 && ::fsync(fd) == 0 && ::flock(fd, LOCK_EX) == 0 &&
                        ::unlink(path) == 0;
              ::close(fd);
              return ok ? 0 : 2;
            }),
            0);
}

// Landlock does not confine mode changes; a setuid root file is a root shell for anyone.
TEST(SeccompFilterTest, FchmodatFailsWithEperm) {
  TempDir tmp;
  const std::string path = tmp.path() + "/file";
  UniqueFd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  EXPECT_EQ(under_filter([&] {
              return ::fchmodat(AT_FDCWD, path.c_str(), 04755, 0) != 0 && errno == EPERM ? 0 : 1;
            }),
            0);
}

TEST(SeccompFilterTest, FchmodToUnsafeModesFailsWithEperm) {
  TempDir tmp;
  const std::string path = tmp.path() + "/file";
  UniqueFd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  for (mode_t mode : {04755, 02755, 01755, 0664, 0646}) {
    EXPECT_EQ(under_filter([&] {
                UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
                return ::fchmod(fd.get(), mode) != 0 && errno == EPERM ? 0 : 1;
              }),
              0)
        << std::oct << mode;
  }
}

TEST(SeccompFilterTest, FchmodTo0644And0600StillWorks) {
  TempDir tmp;
  const std::string path = tmp.path() + "/file";
  UniqueFd(::open(path.c_str(), O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
  EXPECT_EQ(under_filter([&] {
              UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
              return ::fchmod(fd.get(), 0644) == 0 && ::fchmod(fd.get(), 0600) == 0 ? 0 : 1;
            }),
            0);
}

TEST(SeccompFilterTest, LandlockSyscallsAreAllowed) {
  EXPECT_EQ(under_filter([] {
              long abi = ::syscall(SYS_landlock_create_ruleset, nullptr, 0,
                                   LANDLOCK_CREATE_RULESET_VERSION);
              // ENOSYS, EOPNOTSUPP: a kernel without Landlock, which the hook tolerates.
              return abi >= 0 || errno != EPERM ? 0 : 1;
            }),
            0);
}

TEST(SeccompFilterTest, AffinityStillWorks) {
  EXPECT_EQ(under_filter([] {
              cpu_set_t set;
              CPU_ZERO(&set);
              if (::sched_getaffinity(0, sizeof set, &set) != 0) return 1;
              return ::sched_setaffinity(0, sizeof set, &set) == 0 ? 0 : 2;
            }),
            0);
}

TEST(SeccompFilterTest, SignallingAnotherProcessFailsWithEperm) {
  EXPECT_EQ(under_filter([] { return ::kill(::getppid(), 0) != 0 && errno == EPERM ? 0 : 1; }), 0);
}

}  // namespace
}  // namespace kcm
