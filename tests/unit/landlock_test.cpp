#include "landlock.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <functional>
#include <string>

#include "test_support.h"

namespace kcm {
namespace {

using testing_support::run_in_child;
using testing_support::TempDir;
using testing_support::write_file;

// errno of an open(2) that failed, or 0 when it succeeded.
int open_errno(const std::string& path, int flags) {
  int fd = ::open(path.c_str(), flags | O_CLOEXEC, 0644);
  if (fd < 0) return errno;
  ::close(fd);
  return 0;
}

// A scratch tree: conf/ (the conf dir), cgroup/cpuset.cpus (the container's cgroup),
// ro/file (a read-only root) and outside/ (no rule). Landlock is irreversible, so each
// test confines a forked child.
class LandlockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (landlock_abi() == 0) {
      GTEST_SKIP() << "this kernel has no Landlock (built without it, or not enabled at boot): "
                      "kcm-hook runs with its seccomp filter only";
    }
    write_file(tmp_ / "cgroup/cpuset.cpus", "0-1\n");
    write_file(tmp_ / "ro/file", "text");
    write_file(tmp_ / "outside/file", "text");
    std::filesystem::create_directory(tmp_ / "conf");
  }

  HookFileAccess access() const { return {tmp_ / "conf", tmp_ / "cgroup", {tmp_ / "ro"}}; }

  // The exit status of `body` run in a child confined to `rules` (100: not confined).
  static int confined(const HookFileAccess& rules, const std::function<int()>& body) {
    return run_in_child([&] {
      // What the seccomp filter sets in kcm-hook; without it only CAP_SYS_ADMIN may confine.
      if (::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return 101;
      if (confine_hook_file_access(rules) != landlock_abi()) return 100;
      return body();
    });
  }

  TempDir tmp_;
};

TEST_F(LandlockTest, CreatingAFileOutsideTheRootsFailsWithEacces) {
  const std::string path = tmp_ / "outside/new";
  EXPECT_EQ(confined(access(), [&] { return open_errno(path, O_WRONLY | O_CREAT); }), EACCES);
}

TEST_F(LandlockTest, WritingAFileOutsideTheRootsFailsWithEacces) {
  const std::string path = tmp_ / "outside/file";
  EXPECT_EQ(confined(access(), [&] { return open_errno(path, O_WRONLY); }), EACCES);
}

TEST_F(LandlockTest, ConfDirAllowsCreateWriteRenameAndRemove) {
  const std::string conf = tmp_ / "conf";
  EXPECT_EQ(confined(access(),
                     [&] {
                       if (::mkdir((conf + "/owners").c_str(), 0755) != 0) return 1;
                       const std::string temp = conf + "/owners/.c1.json.tmp";
                       const std::string final_name = conf + "/owners/c1.json";
                       if (open_errno(temp, O_WRONLY | O_CREAT | O_TRUNC) != 0) return 2;
                       if (::rename(temp.c_str(), final_name.c_str()) != 0) return 3;
                       if (open_errno(final_name, O_RDONLY) != 0) return 4;
                       return ::unlink(final_name.c_str()) == 0 ? 0 : 5;
                     }),
            0);
}

TEST_F(LandlockTest, RenameOutOfTheConfDirFails) {
  write_file(tmp_ / "conf/tasks", "");
  const std::string from = tmp_ / "conf/tasks";
  const std::string to = tmp_ / "outside/tasks";
  EXPECT_EQ(confined(access(), [&] { return ::rename(from.c_str(), to.c_str()) == 0 ? 0 : errno; }),
            landlock_abi() >= 2 ? EACCES : EXDEV);
}

TEST_F(LandlockTest, ReadOnlyRootCanBeReadButNotWritten) {
  const std::string path = tmp_ / "ro/file";
  EXPECT_EQ(confined(access(),
                     [&] {
                       if (open_errno(path, O_RDONLY) != 0) return 1;
                       return open_errno(path, O_WRONLY) == EACCES ? 0 : 2;
                     }),
            0);
}

TEST_F(LandlockTest, CgroupFilesCanBeWrittenButNothingCreated) {
  const std::string cgroup = tmp_ / "cgroup";
  EXPECT_EQ(
      confined(access(),
               [&] {
                 if (open_errno(cgroup + "/cpuset.cpus", O_WRONLY | O_TRUNC) != 0) return 1;
                 if (open_errno(cgroup + "/cpuset.cpus", O_RDONLY) != 0) return 2;
                 if (open_errno(cgroup + "/new", O_WRONLY | O_CREAT) != EACCES) return 3;
                 return ::unlink((cgroup + "/cpuset.cpus").c_str()) != 0 && errno == EACCES ? 0 : 4;
               }),
      0);
}

TEST_F(LandlockTest, MissingRootGetsNoRuleAndItsOpenFailsWithEnoent) {
  HookFileAccess rules = access();
  rules.conf_dir = tmp_ / "missing";
  const std::string missing = rules.conf_dir;
  EXPECT_EQ(confined(rules, [&] { return open_errno(missing, O_RDONLY | O_DIRECTORY); }), ENOENT);
}

}  // namespace
}  // namespace kcm
