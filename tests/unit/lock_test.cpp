#include "lock.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
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
        DirLock lock = DirLock::acquire(dir.get(), conf, mode, program, milliseconds(60000));
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

class LockTest : public testing::Test {
 protected:
  void SetUp() override { dir_ = open_dir(tmp.path()); }
  DirLock acquire(LockMode mode, milliseconds timeout, const std::string& program = "kcm-test") {
    return DirLock::acquire(dir_.get(), tmp.path(), mode, program, timeout);
  }
  // Exit status of a child that tries to take the lock: 0 taken, 1 timed out.
  int try_in_child(LockMode mode, milliseconds timeout) {
    return run_in_child([&] {
      UniqueFd dir = open_dir(tmp.path());
      try {
        DirLock lock = DirLock::acquire(dir.get(), tmp.path(), mode, "child", timeout);
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
              EndsWith("waiting for pid " + std::to_string(holder.pid()) + " kcm-holder"));
  EXPECT_EQ(t.exit_code, kExitFailure);
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

TEST_F(LockTest, TimeoutWithoutRecordedHolderSaysUnknown) {
  HeldElsewhere holder(tmp.path(), LockMode::kShared, "kcm describe");  // records nothing
  ASSERT_TRUE(holder.ok());
  EXPECT_THAT(thrown_by([&] { acquire(LockMode::kExclusive, milliseconds(100)); }).message,
              EndsWith("waiting for an unknown holder"));
}

TEST_F(LockTest, WaitsForAHolderThatReleasesInTime) {
  auto holder = std::make_unique<HeldElsewhere>(tmp.path(), LockMode::kExclusive, "h");
  ASSERT_TRUE(holder->ok());
  std::thread releaser([&] {
    std::this_thread::sleep_for(milliseconds(200));
    holder.reset();
  });
  EXPECT_NO_THROW(acquire(LockMode::kShared, milliseconds(10000)));
  releaser.join();
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
    DirLock lock = DirLock::acquire(dir.get(), tmp.path(), LockMode::kExclusive, "victim",
                                    milliseconds(60000));
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
  stdfs::create_symlink(tmp / "elsewhere", lock_path);
  EXPECT_EQ(thrown_by([&] { acquire(LockMode::kExclusive, milliseconds(100)); }).message,
            "open \"" + lock_path + "\": is a symlink, refusing to follow it");
}

TEST_F(LockTest, SharedLockDoesNotRewriteTheHolder) {
  write_file(lock_path, "77 kcm-hook\n");
  DirLock lock = acquire(LockMode::kShared, milliseconds(1000));
  EXPECT_EQ(read_text(lock_path), "77 kcm-hook\n");
}

// --- the hold watchdog ----------------------------------------------------------------

using LockDeathTest = LockTest;

TEST_F(LockDeathTest, HoldingPastTheTimeoutExitsWithStatusOne) {
  EXPECT_EXIT(
      {
        DirLock lock = acquire(LockMode::kExclusive, milliseconds(200), "kcm isolate");
        std::this_thread::sleep_for(milliseconds(5000));
        std::exit(0);
      },
      testing::ExitedWithCode(1),
      "kcm: error: held lock \".*/lock\" longer than 0\\.2[0-9]* s \\(KCM_LOCK_TIMEOUT\\); "
      "giving up");
}

TEST_F(LockDeathTest, WatchdogMessageNamesTheHoldingProgram) {
  EXPECT_EXIT(
      {
        DirLock lock = acquire(LockMode::kExclusive, milliseconds(200), "kcm-hook");
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

// --- KCM_LOCK_TIMEOUT ---------------------------------------------------------------------

TEST(LockTimeoutTest, UnsetMeansThirtySeconds) {
  ScopedEnv env("KCM_LOCK_TIMEOUT", std::nullopt);
  EXPECT_EQ(lock_timeout_from_env(), milliseconds(30000));
}

TEST(LockTimeoutTest, EmptyMeansThirtySeconds) {
  ScopedEnv env("KCM_LOCK_TIMEOUT", "");
  EXPECT_EQ(lock_timeout_from_env(), milliseconds(30000));
}

TEST(LockTimeoutTest, ParsesWholeSeconds) {
  ScopedEnv env("KCM_LOCK_TIMEOUT", "30");
  EXPECT_EQ(lock_timeout_from_env(), milliseconds(30000));
}

TEST(LockTimeoutTest, ParsesFractions) {
  ScopedEnv env("KCM_LOCK_TIMEOUT", "0.5");
  EXPECT_EQ(lock_timeout_from_env(), milliseconds(500));
}

TEST(LockTimeoutTest, RoundsSubMillisecondUp) {
  ScopedEnv env("KCM_LOCK_TIMEOUT", "0.0001");
  EXPECT_EQ(lock_timeout_from_env(), milliseconds(1));
}

TEST(LockTimeoutTest, RefusesText) {
  ScopedEnv env("KCM_LOCK_TIMEOUT", "abc");
  auto t = thrown_by([] { lock_timeout_from_env(); });
  EXPECT_EQ(t.message, "KCM_LOCK_TIMEOUT: \"abc\" is not a number of seconds between 0 and 86400");
  EXPECT_EQ(t.exit_code, kExitUsage);
}

TEST(LockTimeoutTest, RefusesNegative) {
  ScopedEnv env("KCM_LOCK_TIMEOUT", "-1");
  EXPECT_EQ(thrown_by([] { lock_timeout_from_env(); }).exit_code, kExitUsage);
}

TEST(LockTimeoutTest, RefusesZero) {
  ScopedEnv env("KCM_LOCK_TIMEOUT", "0");
  EXPECT_EQ(thrown_by([] { lock_timeout_from_env(); }).message,
            "KCM_LOCK_TIMEOUT: \"0\" is not a number of seconds between 0 and 86400");
}

TEST(LockTimeoutTest, RefusesTrailingGarbageInfinityAndNan) {
  for (const char* value : {"5s", "inf", "nan", "1e9"}) {
    ScopedEnv env("KCM_LOCK_TIMEOUT", value);
    EXPECT_EQ(thrown_by([] { lock_timeout_from_env(); }).exit_code, kExitUsage) << value;
  }
}

}  // namespace
}  // namespace kcm
