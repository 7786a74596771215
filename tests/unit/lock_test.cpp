#include "lock.h"

#include <fcntl.h>
#include <gmock/gmock.h>
#include <grp.h>
#include <gtest/gtest.h>
#include <pwd.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <sstream>
#include <thread>

#include "error.h"
#include "test_support.h"

namespace kcm {
namespace {

namespace stdfs = std::filesystem;
using std::chrono::milliseconds;
using testing::EndsWith;
using testing::HasSubstr;
using testing::StartsWith;
using namespace testing_support;

// A lock held by another process until the object goes away.
class HeldElsewhere {
 public:
  HeldElsewhere(const std::string& conf, LockMode mode, const std::string& program) {
    int ready[2], done[2];
    if (::pipe(ready) != 0 || ::pipe(done) != 0) throw std::runtime_error("pipe");
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork");
    if (pid_ == 0) {
      ::close(ready[0]);
      ::close(done[1]);
      try {
        UniqueFd dir = open_dir(conf);
        DirLock lock = DirLock::acquire(dir.get(), conf, mode, {program, program + ": ", milliseconds(60000)});
        char c = 'y';
        if (::write(ready[1], &c, 1) != 1) ::_exit(3);
        while (::read(done[0], &c, 1) > 0) {
        }
      } catch (...) {
        ::_exit(2);
      }
      ::_exit(0);
    }
    ::close(ready[1]);
    ::close(done[0]);
    done_ = done[1];
    char c = 0;
    ok_ = ::read(ready[0], &c, 1) == 1;
    ::close(ready[0]);
  }
  ~HeldElsewhere() {
    ::close(done_);
    int status = 0;
    ::waitpid(pid_, &status, 0);
  }
  bool ok() const { return ok_; }
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_ = -1;
  int done_ = -1;
  bool ok_ = false;
};

mode_t mode_of(const std::string& path) {
  struct stat st;
  EXPECT_EQ(::lstat(path.c_str(), &st), 0) << path;
  return st.st_mode & 07777;
}

// This process's comm, which a forked child shares.
std::string own_comm() {
  std::string comm = read_text("/proc/self/comm");
  if (!comm.empty() && comm.back() == '\n') comm.pop_back();
  return comm;
}

// Runs `body` in a forked child as user nobody (the caller is root).
int as_nobody(const std::function<int()>& body) {
  const struct passwd* pw = ::getpwnam("nobody");
  if (pw == nullptr) throw std::runtime_error("no user nobody");
  const uid_t uid = pw->pw_uid;
  const gid_t gid = pw->pw_gid;
  return run_in_child([&] {
    if (::setgroups(0, nullptr) != 0 || ::setresgid(gid, gid, gid) != 0 ||
        ::setresuid(uid, uid, uid) != 0) {
      return 97;
    }
    return body();
  });
}

// A configuration directory as `kcm init` leaves it: an empty lock file, mode 0600.
class LockTest : public testing::Test {
 protected:
  void SetUp() override {
    write_file(lock_path, "");
    ASSERT_EQ(::chmod(lock_path.c_str(), 0600), 0);
    dir_ = open_dir(tmp.path());
  }
  DirLock acquire(LockMode mode, milliseconds timeout, const std::string& program = "kcm-test",
                  const std::string& error_prefix = "kcm-test: ") {
    return DirLock::acquire(dir_.get(), tmp.path(), mode, {program, error_prefix, timeout});
  }
  // Exit status of a child that tries to take the lock: 0 taken, 1 timed out.
  int try_in_child(LockMode mode, milliseconds timeout) {
    return run_in_child([&] {
      UniqueFd dir = open_dir(tmp.path());
      try {
        DirLock lock = DirLock::acquire(dir.get(), tmp.path(), mode, {"child", "child: ", timeout});
        return 0;
      } catch (const Error&) {
        return 1;
      }
    });
  }

  TempDir tmp;
  const std::string lock_path = tmp / "lock";
  UniqueFd dir_;
};

TEST_F(LockTest, ExclusiveRecordsPidAndProgramInLockFile) {
  DirLock lock = acquire(LockMode::kExclusive, milliseconds(5000), "kcm-hook");
  EXPECT_EQ(read_text(lock_path), std::to_string(::getpid()) + " kcm-hook\n");
}

TEST_F(LockTest, ExclusiveExcludesExclusive) {
  HeldElsewhere holder(tmp.path(), LockMode::kExclusive, "kcm-holder");
  ASSERT_TRUE(holder.ok());
  auto t = thrown_by([&] { acquire(LockMode::kExclusive, milliseconds(300)); });
  EXPECT_THAT(t.message, StartsWith("lock \"" + lock_path + "\": timed out after 0.3"));
  EXPECT_THAT(t.message, HasSubstr(" s (KCM_LOCK_TIMEOUT) "));
  EXPECT_THAT(t.message,
              EndsWith("waiting for pid " + std::to_string(holder.pid()) + " (kcm-holder)"));
  EXPECT_EQ(t.exit_code, kExitFailure);
}

// The record is only what the last exclusive holder wrote: a shared holder, or a process
// outside kcm, writes none, and the timeout must name who actually blocks.
TEST_F(LockTest, TimeoutNamesTheBlockerNotAStaleRecord) {
  write_file(lock_path, "4242 kcm init\n");
  HeldElsewhere holder(tmp.path(), LockMode::kShared, "kcm describe");
  ASSERT_TRUE(holder.ok());
  auto t = thrown_by([&] { acquire(LockMode::kExclusive, milliseconds(100)); });
  EXPECT_THAT(t.message, EndsWith("waiting for pid " + std::to_string(holder.pid()) + " (" +
                                  own_comm() + ")"));
  EXPECT_THAT(t.message, testing::Not(HasSubstr("4242")));
}

TEST_F(LockTest, TimeoutNamesEveryHolder) {
  HeldElsewhere first(tmp.path(), LockMode::kShared, "kcm describe");
  HeldElsewhere second(tmp.path(), LockMode::kShared, "kcm describe");
  ASSERT_TRUE(first.ok() && second.ok());
  auto t = thrown_by([&] { acquire(LockMode::kExclusive, milliseconds(100)); });
  EXPECT_THAT(t.message, HasSubstr("pid " + std::to_string(first.pid()) + " (" + own_comm()));
  EXPECT_THAT(t.message, HasSubstr("pid " + std::to_string(second.pid()) + " (" + own_comm()));
}

// The holders come from <procfs>/locks and <procfs>/<pid>/comm of the procfs given.
class LockHolderMessageTest : public LockTest {
 protected:
  std::string timeout_message() {
    HeldElsewhere holder(tmp.path(), LockMode::kShared, "kcm describe");
    EXPECT_TRUE(holder.ok());
    return thrown_by([&] {
             DirLock::acquire(dir_.get(), tmp.path(), LockMode::kExclusive,
                              {"kcm-test", "kcm-test: ", milliseconds(100), proc.path()});
           })
        .message;
  }
  std::string lock_file_id() const {
    struct stat st;
    EXPECT_EQ(::stat(lock_path.c_str(), &st), 0);
    char id[64];
    std::snprintf(id, sizeof id, "%02x:%02x:%llu", major(st.st_dev), minor(st.st_dev),
                  static_cast<unsigned long long>(st.st_ino));
    return id;
  }

  TempDir proc;
};

TEST_F(LockHolderMessageTest, NamesTheListedHolderByItsComm) {
  write_file(proc / "locks", "1: FLOCK  ADVISORY  READ  777 " + lock_file_id() +
                                 " 0 EOF\n1: -> FLOCK  ADVISORY  WRITE 778 " + lock_file_id() +
                                 " 0 EOF\n");
  write_file(proc / "777/comm", "blocker\n");
  EXPECT_THAT(timeout_message(), EndsWith("waiting for pid 777 (blocker)"));
}

TEST_F(LockHolderMessageTest, NamesTheRecordedProgramOnlyForAListedHolder) {
  write_file(lock_path, "777 kcm isolate\n");
  write_file(proc / "locks", "1: FLOCK  ADVISORY  READ  777 " + lock_file_id() + " 0 EOF\n");
  write_file(proc / "777/comm", "kcm\n");
  EXPECT_THAT(timeout_message(), EndsWith("waiting for pid 777 (kcm isolate)"));
}

TEST_F(LockHolderMessageTest, SaysSoWhenNoHolderIsListed) {
  write_file(proc / "locks", "");
  EXPECT_THAT(timeout_message(),
              EndsWith("waiting for a holder that \"" + proc.path() + "/locks\" does not list"));
}

TEST_F(LockHolderMessageTest, SaysSoWhenProcLocksCannotBeRead) {
  EXPECT_THAT(timeout_message(),
              EndsWith("waiting for a holder (\"" + proc.path() + "/locks\" is unreadable)"));
}

TEST_F(LockTest, ExclusiveExcludesExclusiveOfAnotherProcess) {
  DirLock lock = acquire(LockMode::kExclusive, milliseconds(10000));
  EXPECT_EQ(try_in_child(LockMode::kExclusive, milliseconds(200)), 1);
}

TEST_F(LockTest, ExclusiveExcludesShared) {
  HeldElsewhere holder(tmp.path(), LockMode::kExclusive, "kcm-holder");
  ASSERT_TRUE(holder.ok());
  auto t = thrown_by([&] { acquire(LockMode::kShared, milliseconds(200)); });
  EXPECT_THAT(t.message, StartsWith("lock \"" + lock_path + "\": timed out after "));
}

TEST_F(LockTest, SharedExcludesExclusive) {
  HeldElsewhere holder(tmp.path(), LockMode::kShared, "kcm describe");
  ASSERT_TRUE(holder.ok());
  EXPECT_EQ(thrown_by([&] { acquire(LockMode::kExclusive, milliseconds(200)); }).exit_code,
            kExitFailure);
}

TEST_F(LockTest, SharedAndSharedCoexist) {
  HeldElsewhere holder(tmp.path(), LockMode::kShared, "kcm describe");
  ASSERT_TRUE(holder.ok());
  EXPECT_NO_THROW(acquire(LockMode::kShared, milliseconds(300)));
}

TEST_F(LockTest, TimeoutThrowsAfterAboutTheTimeout) {
  HeldElsewhere holder(tmp.path(), LockMode::kExclusive, "kcm-holder");
  ASSERT_TRUE(holder.ok());
  const auto start = std::chrono::steady_clock::now();
  EXPECT_THROW(acquire(LockMode::kExclusive, milliseconds(400)), Error);
  const auto waited = std::chrono::steady_clock::now() - start;
  EXPECT_GE(waited, milliseconds(400));
  EXPECT_LT(waited, milliseconds(1400));
}

void note_alarm(int) {}

// The wait's alarm borrows SIGALRM: the program's own handler is back afterwards.
TEST_F(LockTest, WaitsForAHolderThatReleasesInTimeAndLeavesSigalrmAsItFoundIt) {
  struct sigaction mine {}, before {}, after {};
  mine.sa_handler = note_alarm;
  sigemptyset(&mine.sa_mask);
  ASSERT_EQ(::sigaction(SIGALRM, &mine, &before), 0);
  auto holder = std::make_unique<HeldElsewhere>(tmp.path(), LockMode::kExclusive, "h");
  ASSERT_TRUE(holder->ok());
  std::thread releaser([&] {
    std::this_thread::sleep_for(milliseconds(200));
    holder.reset();
  });
  EXPECT_NO_THROW(acquire(LockMode::kShared, milliseconds(10000)));
  releaser.join();
  ASSERT_EQ(::sigaction(SIGALRM, &before, &after), 0);
  EXPECT_EQ(after.sa_handler, &note_alarm);
}

// A waiter blocks in flock(2) itself, so the kernel hands it the lock as its holder lets
// go; the kernel lists such a waiter in /proc/locks with "->". One that polled with
// sleeps in between would never be listed, and would leave the lock idle while it slept.
TEST_F(LockTest, AWaiterWaitsInTheKernelForTheLock) {
  auto holder = std::make_unique<HeldElsewhere>(tmp.path(), LockMode::kExclusive, "h");
  ASSERT_TRUE(holder->ok());
  const pid_t waiter = ::fork();
  ASSERT_GE(waiter, 0);
  if (waiter == 0) {
    ::close_range(3, ~0U, 0);  // the holder's pipe among them: it ends when the test closes it
    UniqueFd dir = open_dir(tmp.path());
    try {
      DirLock lock = DirLock::acquire(dir.get(), tmp.path(), LockMode::kExclusive,
                                      {"waiter", "waiter: ", milliseconds(30000)});
      ::_exit(0);
    } catch (...) {
      ::_exit(1);
    }
  }
  const std::string listed = " " + std::to_string(waiter) + " ";
  bool blocked_in_kernel = false;
  for (int i = 0; i < 1000 && !blocked_in_kernel; ++i) {
    std::istringstream lines(read_text("/proc/locks"));
    for (std::string line; std::getline(lines, line);) {
      if (line.find("-> FLOCK") != std::string::npos && line.find(listed) != std::string::npos) {
        blocked_in_kernel = true;
      }
    }
    if (!blocked_in_kernel) std::this_thread::sleep_for(milliseconds(10));
  }
  holder.reset();
  int status = 0;
  ASSERT_EQ(::waitpid(waiter, &status, 0), waiter);
  EXPECT_TRUE(blocked_in_kernel) << "pid " << waiter << " never waited in flock(2)";
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "the waiter did not get the lock";
}

TEST_F(LockTest, ReleaseLetsAnotherProcessTakeIt) {
  DirLock lock = acquire(LockMode::kExclusive, milliseconds(10000));
  lock.release();
  EXPECT_EQ(try_in_child(LockMode::kExclusive, milliseconds(200)), 0);
  lock.release();  // a second release does nothing
}

TEST_F(LockTest, DestructorReleases) {
  { DirLock lock = acquire(LockMode::kExclusive, milliseconds(10000)); }
  EXPECT_EQ(try_in_child(LockMode::kExclusive, milliseconds(200)), 0);
}

TEST_F(LockTest, MovedLockStaysHeldUntilTheNewOwnerReleases) {
  DirLock first = acquire(LockMode::kExclusive, milliseconds(10000));
  DirLock second = std::move(first);
  first.release();  // NOLINT(bugprone-use-after-move): the moved-from lock must not unlock
  EXPECT_EQ(try_in_child(LockMode::kExclusive, milliseconds(200)), 1);
  second.release();
  EXPECT_EQ(try_in_child(LockMode::kExclusive, milliseconds(200)), 0);
}

TEST_F(LockTest, KernelDropsTheLockOfAKilledHolder) {
  int ready[2];
  ASSERT_EQ(::pipe(ready), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    UniqueFd dir = open_dir(tmp.path());
    DirLock lock = DirLock::acquire(dir.get(), tmp.path(), LockMode::kExclusive,
                                    {"victim", "victim: ", milliseconds(60000)});
    char c = 'y';
    if (::write(ready[1], &c, 1) != 1) ::_exit(3);
    ::pause();
    ::_exit(0);
  }
  ::close(ready[1]);
  char c = 0;
  ASSERT_EQ(::read(ready[0], &c, 1), 1);
  ::close(ready[0]);
  ::kill(pid, SIGKILL);
  ::waitpid(pid, nullptr, 0);
  EXPECT_NO_THROW(acquire(LockMode::kExclusive, milliseconds(200)));
}

TEST_F(LockTest, RefusesSymlinkedLockFile) {
  write_file(tmp / "elsewhere", "");
  stdfs::remove(lock_path);
  stdfs::create_symlink(tmp / "elsewhere", lock_path);
  EXPECT_EQ(thrown_by([&] { acquire(LockMode::kExclusive, milliseconds(100)); }).message,
            "open \"" + lock_path + "\": is a symlink, refusing to follow it");
}

TEST_F(LockTest, SharedLockDoesNotRewriteTheHolder) {
  write_file(lock_path, "77 kcm-hook\n");
  DirLock lock = acquire(LockMode::kShared, milliseconds(1000));
  EXPECT_EQ(read_text(lock_path), "77 kcm-hook\n");
}

// --- what the lock file may be ---------------------------------------------------------

TEST_F(LockTest, ExclusiveCreatesAMissingLockFileWithMode0600WhateverTheUmask) {
  stdfs::remove(lock_path);
  const mode_t old_mask = ::umask(0);
  { DirLock lock = acquire(LockMode::kExclusive, milliseconds(1000)); }
  ::umask(old_mask);
  EXPECT_EQ(mode_of(lock_path), 0600u);
}

TEST_F(LockTest, SharedNeverCreatesTheLockFile) {
  stdfs::remove(lock_path);
  EXPECT_NO_THROW(acquire(LockMode::kShared, milliseconds(1000)));
  EXPECT_FALSE(stdfs::exists(lock_path));
}

TEST_F(LockTest, ExclusiveAcquisitionNarrowsAnOpenLockFileTo0600) {
  ASSERT_EQ(::chmod(lock_path.c_str(), 0644), 0);  // as kcm made it before
  { DirLock lock = acquire(LockMode::kExclusive, milliseconds(1000)); }
  EXPECT_EQ(mode_of(lock_path), 0600u);
}

TEST_F(LockTest, UnprivilegedProcessCannotOpenTheLockOnceAWriterHeldIt) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to run a process as nobody";
  ASSERT_EQ(::chmod(tmp.path().c_str(), 0755), 0);
  ASSERT_EQ(::chmod(lock_path.c_str(), 0644), 0);
  { DirLock lock = acquire(LockMode::kExclusive, milliseconds(1000)); }
  EXPECT_EQ(as_nobody([&] {
              const int fd = ::open(lock_path.c_str(), O_RDONLY | O_CLOEXEC);
              return fd < 0 && errno == EACCES ? 0 : 1;
            }),
            0);
}

TEST_F(LockTest, ReaderThatMayNotOpenTheLockReadsWithoutIt) {
  HeldElsewhere writer(tmp.path(), LockMode::kExclusive, "kcm-hook");
  ASSERT_TRUE(writer.ok());
  auto shared_in_child = [&] {
    UniqueFd dir = open_dir(tmp.path());
    DirLock lock =
        DirLock::acquire(dir.get(), tmp.path(), LockMode::kShared, {"r", "r: ", milliseconds(100)});
    return 0;
  };
  if (::geteuid() == 0) {
    ASSERT_EQ(::chmod(tmp.path().c_str(), 0755), 0);
    EXPECT_EQ(as_nobody(shared_in_child), 0);
  } else {
    ASSERT_EQ(::chmod(lock_path.c_str(), 0), 0);
    EXPECT_EQ(run_in_child(shared_in_child), 0);
  }
}

// A second name of the lock file may be a file outside the directory: the holder record
// would overwrite it.
TEST_F(LockTest, WriterRefusesAHardLinkedLockFileAndLeavesTheOtherFile) {
  TempDir elsewhere;
  write_file(elsewhere / "shadow", "keep");
  ASSERT_EQ(::chmod((elsewhere / "shadow").c_str(), 0640), 0);
  stdfs::remove(lock_path);
  ASSERT_EQ(::link((elsewhere / "shadow").c_str(), lock_path.c_str()), 0);
  auto t = thrown_by([&] { acquire(LockMode::kExclusive, milliseconds(100)); });
  EXPECT_EQ(t.message,
            "open \"" + lock_path + "\": has 2 names (a hard link), refusing to write to it");
  EXPECT_EQ(read_text(elsewhere / "shadow"), "keep");
  EXPECT_EQ(mode_of(elsewhere / "shadow"), 0640u);
}

TEST_F(LockTest, RefusesAFifoAsTheLockWithoutBlocking) {
  stdfs::remove(lock_path);
  ASSERT_EQ(::mkfifo(lock_path.c_str(), 0600), 0);
  EXPECT_EQ(thrown_by([&] { acquire(LockMode::kExclusive, milliseconds(100)); }).message,
            "open \"" + lock_path + "\": is not a regular file");
  EXPECT_EQ(thrown_by([&] { acquire(LockMode::kShared, milliseconds(100)); }).message,
            "open \"" + lock_path + "\": is not a regular file");
}

// --- is_kcm_lock_file ------------------------------------------------------------------

TEST_F(LockTest, KcmLockFileIsEmptyOrAHolderRecord) {
  EXPECT_TRUE(is_kcm_lock_file(dir_.get()));
  write_file(lock_path, "123 kcm init\n");
  EXPECT_TRUE(is_kcm_lock_file(dir_.get()));
  // Written over a longer record by a holder killed before it cut the file to length.
  write_file(lock_path, "123 kcm init\nk init\n");
  EXPECT_TRUE(is_kcm_lock_file(dir_.get()));
  { DirLock lock = acquire(LockMode::kExclusive, milliseconds(1000), "kcm isolate"); }
  EXPECT_TRUE(is_kcm_lock_file(dir_.get()));
}

TEST_F(LockTest, OtherContentIsNotAKcmLockFile) {
  for (const char* text : {"my notes", "123 kcm init", "123\n", "x kcm\n", "-1 kcm\n",
                           "123 kcm init\nmore\nlines\n", "123 kcm init\nmore",
                           "123 kcm\tinit\n"}) {
    write_file(lock_path, text);
    EXPECT_FALSE(is_kcm_lock_file(dir_.get())) << text;
  }
}

TEST_F(LockTest, AbsentLinkedOrSymlinkedLockIsNotAKcmLockFile) {
  stdfs::remove(lock_path);
  EXPECT_FALSE(is_kcm_lock_file(dir_.get()));
  write_file(tmp / "other", "");
  stdfs::create_symlink(tmp / "other", lock_path);
  EXPECT_FALSE(is_kcm_lock_file(dir_.get()));
  stdfs::remove(lock_path);
  stdfs::create_hard_link(tmp / "other", lock_path);
  EXPECT_FALSE(is_kcm_lock_file(dir_.get()));
}

// --- flock_holders -------------------------------------------------------------------------

TEST(FlockHoldersTest, ListsTheFlockHoldersOfOneInode) {
  const std::string locks =
      "1: POSIX  ADVISORY  WRITE 100 08:01:1318 0 EOF\n"
      "2: FLOCK  ADVISORY  READ  812 08:01:1318 0 EOF\n"
      "2: -> FLOCK  ADVISORY  WRITE 813 08:01:1318 0 EOF\n"
      "3: FLOCK  ADVISORY  READ  907 08:01:1318 0 EOF\n"
      "4: FLOCK  ADVISORY  WRITE 950 08:02:1318 0 EOF\n"
      "5: FLOCK  ADVISORY  WRITE 951 08:01:13180 0 EOF\n"
      "6: OFDLCK ADVISORY  READ  -1 08:01:1318 0 EOF\n";
  EXPECT_EQ(flock_holders(locks, makedev(8, 1), 1318), (std::vector<pid_t>{812, 907}));
}

TEST(FlockHoldersTest, ReadsTheDeviceInHex) {
  EXPECT_EQ(flock_holders("1: FLOCK  ADVISORY  WRITE 5 fd:1a:77 0 EOF\n", makedev(253, 26), 77),
            std::vector<pid_t>{5});
}

TEST(FlockHoldersTest, SkipsMalformedLines) {
  EXPECT_TRUE(flock_holders("garbage\n1: FLOCK ADVISORY WRITE x 08:01:5 0 EOF\n"
                            "1: FLOCK ADVISORY WRITE 9 08:01 0 EOF\n\n",
                            makedev(8, 1), 5)
                  .empty());
}

// --- the hold watchdog ----------------------------------------------------------------

using LockDeathTest = LockTest;

TEST_F(LockDeathTest, HoldingPastTheTimeoutExitsWithStatusOne) {
  EXPECT_EXIT(
      {
        DirLock lock =
            acquire(LockMode::kExclusive, milliseconds(200), "kcm isolate", "kcm: error: ");
        std::this_thread::sleep_for(milliseconds(5000));
        std::exit(0);
      },
      testing::ExitedWithCode(1),
      "kcm: error: held lock \".*/lock\" longer than 0\\.2[0-9]* s \\(KCM_LOCK_TIMEOUT\\); "
      "giving up");
}

TEST_F(LockDeathTest, WatchdogMessageBeginsWithTheCallersErrorPrefix) {
  EXPECT_EXIT(
      {
        DirLock lock = acquire(LockMode::kExclusive, milliseconds(200), "kcm-hook", "kcm-hook: ");
        std::this_thread::sleep_for(milliseconds(5000));
        std::exit(0);
      },
      testing::ExitedWithCode(1), "^kcm-hook: held lock \".*/lock\" longer than");
}

TEST_F(LockDeathTest, ReleaseDisarmsTheWatchdog) {
  EXPECT_EXIT(
      {
        DirLock lock = acquire(LockMode::kExclusive, milliseconds(200));
        lock.release();
        std::this_thread::sleep_for(milliseconds(600));
        std::exit(0);
      },
      testing::ExitedWithCode(0), "");
}

TEST_F(LockDeathTest, SharedLockHasNoWatchdog) {
  EXPECT_EXIT(
      {
        DirLock lock = acquire(LockMode::kShared, milliseconds(200));
        std::this_thread::sleep_for(milliseconds(600));
        std::exit(0);
      },
      testing::ExitedWithCode(0), "");
}

}  // namespace
}  // namespace kcm
