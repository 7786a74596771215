#include "reservation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <set>

#include "error.h"
#include "test_support.h"

namespace kcm {
namespace {

namespace stdfs = std::filesystem;
using std::chrono::milliseconds;
using testing::ElementsAre;
using testing::IsEmpty;
using namespace testing_support;

class ReservationTest : public ConfDirTest {
 protected:
  // The document's example with every dataplane list free.
  void SetUp() override {
    make_example_conf(conf);
    for (int core = 4; core < 8; ++core) write_file(tasks_path("dataplane", list_of(core)), "");
    stdfs::create_directory(conf + "/owners");
    stdfs::permissions(conf + "/owners", stdfs::perms::owner_all);  // as kcm init makes it
  }

  static std::string list_of(int core) {
    return std::to_string(core) + "," + std::to_string(core + 8);
  }
  std::string tasks_path(const std::string& pool, const std::string& list) const {
    return path("pools/" + pool + "/" + list + "/tasks");
  }
  std::string tasks(const std::string& pool, const std::string& list) const {
    return read_text(tasks_path(pool, list));
  }
  ConfigDir dir() const { return ConfigDir::open(conf); }
  static ReservationRequest request(const std::string& owner, pid_t pid,
                                    const std::string& pool = "dataplane", int count = 1) {
    return ReservationRequest{owner, pid, 1000u + static_cast<std::uint64_t>(pid), pool, count};
  }
  // The directory without the lock file, which records the last holder for diagnostics.
  std::map<std::string, std::string> state() const {
    auto s = snapshot(conf);
    s.erase("lock");
    return s;
  }

  // Marks `pid` as running with the start time request() gives it.
  void running(pid_t pid) const {
    proc.add_process(pid, 1000u + static_cast<std::uint64_t>(pid), "0");
  }

  // Only the PIDs a test adds run; every other holder is gone. No node/ directory: every
  // CPU counts as node 0.
  FakeProcfs proc;
  const LockOptions lock{"kcm-test", "kcm-test: ", milliseconds(10000), proc.root()};
  const std::string sysfs = tmp / "sys";
};

TEST_F(ReservationTest, ReserveWritesOwnerRecordAndTasks) {
  Reservation r = reserve(dir(), request("c1", 2000), lock, sysfs);
  EXPECT_FALSE(r.existing);
  EXPECT_EQ(r.cpus, (CpuSet{4, 12}));
  EXPECT_EQ(r.record.owner, "c1");
  EXPECT_EQ(r.record.pid, 2000);
  EXPECT_EQ(r.record.start_time, 3000u);
  EXPECT_EQ(r.record.pool, "dataplane");
  EXPECT_THAT(r.record.cpu_lists, ElementsAre("4,12"));
  EXPECT_FALSE(r.record.created.empty());
  EXPECT_EQ(tasks("dataplane", "4,12"), "2000");
  EXPECT_EQ(dir().read_owner("c1"), r.record);
}

TEST_F(ReservationTest, ReserveTakesSeveralLists) {
  write_file(tasks_path("dataplane", "5,13"), "77");
  Reservation r = reserve(dir(), request("c1", 2000, "dataplane", 2), lock, sysfs);
  EXPECT_THAT(r.record.cpu_lists, ElementsAre("4,12", "6,14"));
  EXPECT_EQ(r.cpus, (CpuSet{4, 6, 12, 14}));
  EXPECT_EQ(tasks("dataplane", "4,12"), "2000");
  EXPECT_EQ(tasks("dataplane", "5,13"), "77");
  EXPECT_EQ(tasks("dataplane", "6,14"), "2000");
}

TEST_F(ReservationTest, ReserveInSharedPoolAppendsToTasks) {
  Reservation r = reserve(dir(), request("c1", 4000, "infra"), lock, sysfs);
  EXPECT_THAT(r.record.cpu_lists, ElementsAre("0-2,8-10"));
  EXPECT_EQ(tasks("infra", "0-2,8-10"), "3000,3001,3002,4000");
}

TEST_F(ReservationTest, SeveralListsComeFromOneNumaNodeOfLockSysfs) {
  // Node 0: 4,12 and 5,13; node 1: 6,14 and 7,15. With 4,12 busy only node 1 has two free.
  write_file(tmp / "sys/devices/system/node/node0/cpulist", "0-5,8-13\n");
  write_file(tmp / "sys/devices/system/node/node1/cpulist", "6,7,14,15\n");
  write_file(tasks_path("dataplane", "4,12"), "77");
  Reservation r = reserve(dir(), request("c1", 2000, "dataplane", 2), lock, sysfs);
  EXPECT_THAT(r.record.cpu_lists, ElementsAre("6,14", "7,15"));
  EXPECT_EQ(tasks("dataplane", "5,13"), "");
}

TEST_F(ReservationTest, FailedTasksWriteRollsBackTheOwnerRecord) {
  stdfs::create_directories(conf + "/owners");
  // The temp file's name is taken by a directory, so writing 4,12/tasks fails.
  const std::string blocker =
      conf + "/pools/dataplane/4,12/.tasks.tmp-" + std::to_string(::getpid());
  stdfs::create_directories(blocker);
  const auto before = state();
  auto t = thrown_by([&] { reserve(dir(), request("c1", 2000), lock, sysfs); });
  EXPECT_EQ(t.message,
            "create \"" + conf + "/pools/dataplane/4,12/tasks (temp file)\": Is a directory");
  EXPECT_EQ(state(), before);
  EXPECT_EQ(dir().read_owner("c1"), std::nullopt);
}

TEST_F(ReservationTest, RepeatedReserveForSameOwnerAndPidChangesNothing) {
  Reservation first = reserve(dir(), request("c1", 2000), lock, sysfs);
  const auto before = state();
  Reservation second = reserve(dir(), request("c1", 2000), lock, sysfs);
  EXPECT_TRUE(second.existing);
  EXPECT_EQ(second.record, first.record);
  EXPECT_EQ(second.cpus, first.cpus);
  EXPECT_EQ(state(), before);
}

TEST_F(ReservationTest, SameOwnerWithAnotherPidReleasesTheStaleRecordFirst) {
  reserve(dir(), request("c1", 2000), lock, sysfs);
  Reservation r = reserve(dir(), request("c1", 2001), lock, sysfs);
  EXPECT_FALSE(r.existing);
  // The stale pid's list was freed before choosing, so the lowest list is taken again.
  EXPECT_THAT(r.record.cpu_lists, ElementsAre("4,12"));
  EXPECT_EQ(tasks("dataplane", "4,12"), "2001");
  for (int core = 5; core < 8; ++core) EXPECT_EQ(tasks("dataplane", list_of(core)), "");
  EXPECT_EQ(dir().read_owner("c1")->pid, 2001);
}

// `kcm isolate` names its record after its PID: a new isolate that got the PID of a killed
// one must not adopt the leftover record (reconcile would then reclaim a live holder).
TEST_F(ReservationTest, SamePidWithAnotherStartTimeIsAnotherHolder) {
  reserve(dir(), request("isolate-2000", 2000), lock, sysfs);
  ReservationRequest reused = request("isolate-2000", 2000);
  reused.start_time += 1;
  Reservation r = reserve(dir(), reused, lock, sysfs);
  EXPECT_FALSE(r.existing);
  EXPECT_EQ(r.record.start_time, reused.start_time);
  EXPECT_EQ(dir().read_owner("isolate-2000")->start_time, reused.start_time);
  EXPECT_EQ(tasks("dataplane", "4,12"), "2000");
  for (int core = 5; core < 8; ++core) EXPECT_EQ(tasks("dataplane", list_of(core)), "");
}

TEST_F(ReservationTest, SameOwnerInAnotherPoolReleasesTheOldPool) {
  reserve(dir(), request("c1", 2000, "dataplane"), lock, sysfs);
  Reservation r = reserve(dir(), request("c1", 2000, "infra"), lock, sysfs);
  EXPECT_FALSE(r.existing);
  EXPECT_EQ(tasks("dataplane", "4,12"), "");
  EXPECT_EQ(tasks("infra", "0-2,8-10"), "3000,3001,3002,2000");
  EXPECT_EQ(dir().read_owner("c1")->pool, "infra");
}

// --- a record is bound to its holder -------------------------------------------------

TEST_F(ReservationTest, SameIdOfAnotherRunningProcessIsRefusedAndChangesNothing) {
  running(2000);
  running(2001);
  reserve(dir(), request("c1", 2000), lock, sysfs);
  const auto before = state();
  auto t = thrown_by([&] { reserve(dir(), request("c1", 2001), lock, sysfs); });
  EXPECT_EQ(t.message,
            "owner \"c1\" already holds CPU lists for live pid 2000 (4,12 of pool \"dataplane\")");
  EXPECT_EQ(t.exit_code, kExitFailure);
  EXPECT_EQ(state(), before);
}

TEST_F(ReservationTest, SameIdOfAProcessProcfsCannotJudgeIsRefused) {
  reserve(dir(), request("c1", 2000), lock, sysfs);
  write_file(proc.root() + "/2000/status", "Name:\tx\n");  // no stat: kUnknown
  const auto before = state();
  EXPECT_EQ(thrown_by([&] { reserve(dir(), request("c1", 2001), lock, sysfs); }).exit_code, kExitFailure);
  EXPECT_EQ(state(), before);
}

TEST_F(ReservationTest, SameIdOfAReusedPidIsReplaced) {
  reserve(dir(), request("c1", 2000), lock, sysfs);
  proc.add_process(2000, 1, "0");  // another process got pid 2000
  Reservation r = reserve(dir(), request("c1", 2001), lock, sysfs);
  EXPECT_EQ(r.record.pid, 2001);
  EXPECT_EQ(tasks("dataplane", "4,12"), "2001");
}

TEST_F(ReservationTest, RecordOfAnotherIdUnderThisIdsNameIsNeverTakenOver) {
  Owner other{"c2", 2000, 3000, "dataplane", {"4,12"}, "2026-11-30T04:17:45Z"};
  write_file(conf + "/owners/c1.json", owner_to_json(other));
  const auto before = state();
  EXPECT_EQ(thrown_by([&] { reserve(dir(), request("c1", 2001), lock, sysfs); }).message,
            "owner \"c1\": its record holds owner \"c2\"; refusing to take it over");
  EXPECT_EQ(release(dir(), "c1", lock, std::nullopt), std::nullopt);
  EXPECT_EQ(state(), before);
}

TEST_F(ReservationTest, IdsThatAreAnothersHashKeepTheirOwnRecords) {
  running(2000);
  running(2001);
  const std::string hash = "c14cddc033f64b9dea80ea675cf280a015e672516090a5626781153dc68fea11";
  reserve(dir(), request("a/b", 2000), lock, sysfs);  // sha256("a/b") == hash
  Reservation second = reserve(dir(), request(hash, 2001), lock, sysfs);
  EXPECT_FALSE(second.existing);
  EXPECT_EQ(tasks("dataplane", "4,12"), "2000");
  EXPECT_EQ(tasks("dataplane", "5,13"), "2001");
  EXPECT_EQ(dir().read_owner("a/b")->pid, 2000);
  EXPECT_EQ(dir().read_owner(hash)->pid, 2001);
}

// --- a retry completes what a killed writer left -------------------------------------

TEST_F(ReservationTest, RetryGivesBackARecordedListWithoutItsTask) {
  running(2000);
  // A writer killed between the record and the tasks file.
  dir().write_owner(Owner{"c1", 2000, 3000, "dataplane", {"4,12"}, "2026-11-30T04:17:45Z"});
  Reservation r = reserve(dir(), request("c1", 2000), lock, sysfs);
  EXPECT_FALSE(r.existing);
  EXPECT_THAT(r.record.cpu_lists, ElementsAre("4,12"));
  EXPECT_EQ(r.cpus, (CpuSet{4, 12}));
  EXPECT_EQ(tasks("dataplane", "4,12"), "2000");
  // The next container gets another list.
  EXPECT_THAT(reserve(dir(), request("c2", 2001), lock, sysfs).record.cpu_lists, ElementsAre("5,13"));
}

TEST_F(ReservationTest, RetryReplacesARecordedListTakenSince) {
  running(2000);
  dir().write_owner(Owner{"c1", 2000, 3000, "dataplane", {"4,12"}, "2026-11-30T04:17:45Z"});
  write_file(tasks_path("dataplane", "4,12"), "2500");  // given to another meanwhile
  Reservation r = reserve(dir(), request("c1", 2000), lock, sysfs);
  EXPECT_THAT(r.record.cpu_lists, ElementsAre("5,13"));
  EXPECT_EQ(r.cpus, (CpuSet{5, 13}));
  EXPECT_EQ(tasks("dataplane", "4,12"), "2500");
  EXPECT_EQ(tasks("dataplane", "5,13"), "2000");
  EXPECT_THAT(dir().read_owner("c1")->cpu_lists, ElementsAre("5,13"));
}

TEST_F(ReservationTest, RetryWritesTheListsAKillLeftUnwritten) {
  running(2000);
  dir().write_owner(Owner{"c1", 2000, 3000, "dataplane", {"4,12", "5,13"}, "2026-11-30T04:17:45Z"});
  write_file(tasks_path("dataplane", "4,12"), "2000");
  Reservation r = reserve(dir(), request("c1", 2000, "dataplane", 2), lock, sysfs);
  EXPECT_THAT(r.record.cpu_lists, ElementsAre("4,12", "5,13"));
  EXPECT_EQ(tasks("dataplane", "4,12"), "2000");
  EXPECT_EQ(tasks("dataplane", "5,13"), "2000");
}

TEST_F(ReservationTest, RetryThatCannotCompleteChangesNothing) {
  running(2000);
  dir().write_owner(Owner{"c1", 2000, 3000, "dataplane", {"4,12"}, "2026-11-30T04:17:45Z"});
  for (int core = 4; core < 8; ++core) {
    write_file(tasks_path("dataplane", list_of(core)), std::to_string(5000 + core));
  }
  const auto before = state();
  EXPECT_EQ(thrown_by([&] { reserve(dir(), request("c1", 2000), lock, sysfs); }).message,
            "pool \"dataplane\" has 0 free CPU lists (4 in use)");
  EXPECT_EQ(state(), before);
}

// --- release --------------------------------------------------------------------------

TEST_F(ReservationTest, PoststopKeepsTheListsOfARunningHolder) {
  running(2000);
  reserve(dir(), request("c1", 2000), lock, sysfs);
  const auto before = state();
  EXPECT_EQ(release(dir(), "c1", lock, std::nullopt), std::nullopt);
  EXPECT_EQ(release(dir(), "c1", lock, ProcessId{2001, 3001}), std::nullopt);
  EXPECT_EQ(state(), before);
}

TEST_F(ReservationTest, ARunningHolderReleasesItsOwnLists) {
  running(2000);
  reserve(dir(), request("c1", 2000), lock, sysfs);
  EXPECT_TRUE(release(dir(), "c1", lock, ProcessId{2000, 3000}).has_value());
  EXPECT_EQ(tasks("dataplane", "4,12"), "");
  EXPECT_EQ(dir().read_owner("c1"), std::nullopt);
}

TEST_F(ReservationTest, ReleaseRemovesPidAndOwner) {
  Reservation r = reserve(dir(), request("c1", 2000, "dataplane", 2), lock, sysfs);
  std::optional<Owner> released = release(dir(), "c1", lock, std::nullopt);
  ASSERT_TRUE(released.has_value());
  EXPECT_EQ(*released, r.record);
  EXPECT_EQ(tasks("dataplane", "4,12"), "");
  EXPECT_EQ(tasks("dataplane", "5,13"), "");
  EXPECT_EQ(dir().read_owner("c1"), std::nullopt);
  EXPECT_THAT(dir().read_owners(), IsEmpty());
}

TEST_F(ReservationTest, ReleaseKeepsOtherTasksOfASharedList) {
  reserve(dir(), request("c1", 4000, "infra"), lock, sysfs);
  write_file(tasks_path("infra", "0-2,8-10"), "3000,4000,3001");
  release(dir(), "c1", lock, std::nullopt);
  EXPECT_EQ(tasks("infra", "0-2,8-10"), "3000,3001");
}

TEST_F(ReservationTest, ReleaseOfUnknownOwnerReturnsNulloptAndChangesNothing) {
  reserve(dir(), request("c1", 2000), lock, sysfs);
  const auto before = state();
  EXPECT_EQ(release(dir(), "c2", lock, std::nullopt), std::nullopt);
  EXPECT_EQ(state(), before);
}

TEST_F(ReservationTest, ReleaseWithoutOwnersDirectoryReturnsNullopt) {
  const auto before = state();
  EXPECT_EQ(release(dir(), "c1", lock, std::nullopt), std::nullopt);
  EXPECT_EQ(state(), before);
}

TEST_F(ReservationTest, ReleaseDeletesRecordEvenWhenItsPoolIsGone) {
  reserve(dir(), request("c1", 2000), lock, sysfs);
  stdfs::remove_all(conf + "/pools/dataplane");
  EXPECT_TRUE(release(dir(), "c1", lock, std::nullopt).has_value());
  EXPECT_EQ(dir().read_owner("c1"), std::nullopt);
}

// A release that cannot rewrite a tasks file keeps the record, so the PID stays findable
// for a retry or for reconcile instead of being forgotten while still listed.
TEST_F(ReservationTest, FailedReleaseKeepsTheRecord) {
  reserve(dir(), request("c1", 2000), lock, sysfs);
  const std::string tasks_file = tasks_path("dataplane", "4,12");
  stdfs::remove(tasks_file);
  stdfs::create_symlink(tmp / "elsewhere", tasks_file);
  EXPECT_THROW(release(dir(), "c1", lock, std::nullopt), Error);
  EXPECT_TRUE(dir().read_owner("c1").has_value());
}

TEST_F(ReservationTest, FailedRollbackKeepsBothErrors) {
  reserve(dir(), request("c1", 2000), lock, sysfs);
  stdfs::remove(tasks_path("dataplane", "4,12"));
  stdfs::create_symlink(tmp / "elsewhere", tasks_path("dataplane", "4,12"));
  try {
    release_after_failure(dir(), "c1", lock, {2000, 3000},
                          Error("write \"cpuset.cpus\": Invalid argument"));
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), testing::StartsWith("write \"cpuset.cpus\": Invalid argument; "
                                              "rolling back failed too: "));
    EXPECT_THAT(e.what(), testing::HasSubstr("is a symlink"));
  }
}

TEST_F(ReservationTest, ExhaustedPoolLeavesDirectoryUnchanged) {
  for (int core = 4; core < 8; ++core) {
    write_file(tasks_path("dataplane", list_of(core)), std::to_string(2000 + core));
  }
  const auto before = state();
  auto t = thrown_by([&] { reserve(dir(), request("c1", 3000), lock, sysfs); });
  EXPECT_EQ(t.message, "pool \"dataplane\" has 0 free CPU lists (4 in use)");
  EXPECT_EQ(t.exit_code, kExitFailure);
  EXPECT_EQ(state(), before);
}

TEST_F(ReservationTest, TooLargeRequestLeavesDirectoryUnchanged) {
  reserve(dir(), request("c1", 2000), lock, sysfs);
  const auto before = state();
  EXPECT_EQ(thrown_by([&] { reserve(dir(), request("c2", 2001, "dataplane", 4), lock, sysfs); }).message,
            "pool \"dataplane\" has 3 free CPU lists, 4 requested (1 in use)");
  EXPECT_EQ(state(), before);
}

TEST_F(ReservationTest, StaleRecordIsKeptWhenTheNewRequestCannotBeSatisfied) {
  // c1 holds 4,12 with pid 2000, the other lists are busy; its new pid asks for two lists.
  reserve(dir(), request("c1", 2000), lock, sysfs);
  for (int core = 5; core < 8; ++core) {
    write_file(tasks_path("dataplane", list_of(core)), std::to_string(5000 + core));
  }
  const auto before = state();
  EXPECT_EQ(thrown_by([&] { reserve(dir(), request("c1", 2001, "dataplane", 2), lock, sysfs); }).exit_code,
            kExitFailure);
  EXPECT_EQ(state(), before);  // reservation.h: "Throws Error, changing nothing"
}

TEST_F(ReservationTest, AbsentPoolLeavesDirectoryUnchanged) {
  const auto before = state();
  auto t = thrown_by([&] { reserve(dir(), request("c1", 2000, "nope"), lock, sysfs); });
  EXPECT_EQ(t.message, "pool \"nope\" does not exist in \"" + conf + "\"");
  EXPECT_EQ(state(), before);
}

// The request's pool is a name (names.h): text that is not one never reaches the lock.
TEST_F(ReservationTest, InvalidPoolNameIsAUsageErrorBeforeLocking) {
  const auto before = snapshot(conf);
  auto t = thrown_by([&] { reserve(dir(), request("c1", 2000, "../pools"), lock, sysfs); });
  EXPECT_EQ(t.exit_code, kExitUsage);
  EXPECT_EQ(snapshot(conf), before);  // not even the lock file was created
}

TEST_F(ReservationTest, SharedPoolWithCountTwoLeavesDirectoryUnchanged) {
  const auto before = state();
  EXPECT_EQ(thrown_by([&] { reserve(dir(), request("c1", 2000, "infra", 2), lock, sysfs); }).exit_code,
            kExitUsage);
  EXPECT_EQ(state(), before);
}

TEST_F(ReservationTest, RemoveTaskRemovesOnlyThatPid) {
  write_file(tasks_path("infra", "0-2,8-10"), "3000,3001,3000");
  const ConfigDir d = dir();
  remove_task(d, d.read_pool("infra"), "0-2,8-10", 3000);
  EXPECT_EQ(tasks("infra", "0-2,8-10"), "3001");
}

TEST_F(ReservationTest, RemoveTaskOfAbsentPidOrListChangesNothing) {
  const ConfigDir d = dir();
  const auto before = state();
  remove_task(d, d.read_pool("infra"), "0-2,8-10", 9999);
  remove_task(d, d.read_pool("infra"), "9,17", 3000);
  EXPECT_EQ(state(), before);
}

TEST_F(ReservationTest, ReleaseLockedRemovesTasksThenRecord) {
  Reservation r = reserve(dir(), request("c1", 2000), lock, sysfs);
  release_locked(dir(), r.record);
  EXPECT_EQ(tasks("dataplane", "4,12"), "");
  EXPECT_EQ(dir().read_owner("c1"), std::nullopt);
}

TEST_F(ReservationTest, ConcurrentReservesNeverShareAnExclusiveList) {
  // A 2-list exclusive pool and 8 processes asking for one list each at the same moment.
  write_file(conf + "/pools/small/exclusive", "1");
  write_file(tasks_path("small", "20"), "");
  write_file(tasks_path("small", "21"), "");
  constexpr int kProcesses = 8;
  int go[2];
  ASSERT_EQ(::pipe(go), 0);
  std::vector<pid_t> children;
  for (int i = 0; i < kProcesses; ++i) {
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::close(go[1]);
      char c;
      if (::read(go[0], &c, 1) != 0) ::_exit(5);  // wait for the parent to close the pipe
      int code = 4;
      try {
        ConfigDir d = ConfigDir::open(conf);
        reserve(d, request("c" + std::to_string(i), 6000 + i, "small"), lock, sysfs);
        code = 0;
      } catch (const Error& e) {
        code = std::string(e.what()) == "pool \"small\" has 0 free CPU lists (2 in use)" ? 1 : 3;
      } catch (...) {
        code = 4;
      }
      ::_exit(code);
    }
    children.push_back(pid);
  }
  ::close(go[0]);
  ::close(go[1]);  // start them all
  std::map<int, int> exits;
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    ASSERT_TRUE(WIFEXITED(status));
    ++exits[WEXITSTATUS(status)];
  }
  EXPECT_EQ(exits, (std::map<int, int>{{0, 2}, {1, kProcesses - 2}}));

  const Pool small = dir().read_pool("small");
  std::set<pid_t> holders;
  for (const auto& [name, list] : small.lists) {
    ASSERT_EQ(list.tasks.size(), 1u) << name;
    holders.insert(list.tasks[0]);
  }
  EXPECT_EQ(holders.size(), 2u);
  const std::vector<Owner> owners = dir().read_owners();
  ASSERT_EQ(owners.size(), 2u);
  EXPECT_NE(owners[0].cpu_lists, owners[1].cpu_lists);
  for (const Owner& o : owners) {
    ASSERT_EQ(o.cpu_lists.size(), 1u);
    EXPECT_EQ(small.lists.at(o.cpu_lists[0]).tasks, std::vector<pid_t>{o.pid});
  }
}

}  // namespace
}  // namespace kcm
