#include "seccomp_filter.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <functional>

namespace kcm {
namespace {

// Runs `body` in a forked child after installing the filter; the child's exit status is
// the body's result (0: as expected). The filter is irreversible, so the test process
// itself never installs it.
int under_filter(const std::function<int()>& body) {
  pid_t child = ::fork();
  if (child == 0) {
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

TEST(SeccompFilterTest, UnixSocketForSyslogIsAllowed) {
  EXPECT_EQ(
      under_filter([] { return ::socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0) >= 0 ? 0 : 1; }), 0);
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
