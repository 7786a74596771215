#include "pin.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <optional>

#include "affinity.h"
#include "boot.h"
#include "error.h"
#include "test_support.h"

namespace kcm {
namespace {

namespace stdfs = std::filesystem;
using std::chrono::milliseconds;
using testing::ElementsAre;
using testing::HasSubstr;
using testing::StartsWith;
using namespace testing_support;

// A real child process to pin: it waits until the test kills it.
class Child {
 public:
  Child() : pid_(::fork()) {
    if (pid_ == 0) {
      for (;;) ::pause();
    }
  }
  ~Child() { stop(); }
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  pid_t pid() const { return pid_; }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

 private:
  pid_t pid_;
};

class PinTest : public ConfDirTest {
 protected:
  // An exclusive pool with a list on the first and one on the last CPU this test may use
  // (the child really runs on them), and a shared pool of all of them.
  void SetUp() override {
    ASSERT_GT(child.pid(), 0);
    const CpuSet allowed = testing_support::affinity_of(0);
    first = CpuListName::parse(CpuSet{allowed.first()}.to_string());
    write_file(path("pools/dataplane/exclusive"), "1");
    write_file(tasks_path("dataplane", first), "");
    if (allowed.size() > 1) {
      write_file(tasks_path("dataplane", CpuSet{allowed.last()}.to_string()), "");
    }
    write_file(path("pools/infra/exclusive"), "0");
    write_file(tasks_path("infra", allowed.to_string()), "");
    stdfs::create_directory(path("owners"));
    stdfs::permissions(path("owners"), stdfs::perms::owner_all);  // as kcm init makes it
    write_file(path("boot"), read_boot_id("/proc") + "\n");       // records of this boot
  }

  std::string tasks_path(const std::string& pool, const std::string& list) const {
    return path("pools/" + pool + "/" + list + "/tasks");
  }
  std::string tasks(const std::string& pool, const std::string& list) const {
    return read_text(tasks_path(pool, list));
  }
  ConfigDir dir() const { return ConfigDir::open(conf); }
  Holder holder() const { return find_holder(Procfs(), "c1", child.pid()); }
  // The directory without the lock file, which records the last holder for diagnostics.
  std::map<std::string, std::string> state() const {
    auto s = snapshot(conf);
    s.erase("lock");
    return s;
  }

  // Pins `holder()` to a dataplane list with `apply`.
  Reservation pin_with(const ApplyCpus& apply, const PinRequest& request = {"dataplane", 1, ""}) {
    return pin(dir(), holder(), request, apply, lock, sysfs);
  }
  // The real way of applying to a process outside any container: every thread's affinity.
  ApplyCpus set_child_affinity() const {
    return [this](const CpuSet& cpus) { set_affinity_all(Procfs().threads(child.pid()), cpus); };
  }

  Child child;
  CpuListName first;
  const LockOptions lock{"kcm-test", "kcm-test: ", milliseconds(10000), "/proc"};
  const std::string sysfs = tmp / "sys";  // no NUMA nodes: every CPU is on node 0
};

// --- the transaction -------------------------------------------------------------------

// docs/config.md "What reaches the disk": a container start never waits for it.
TEST_F(PinTest, APinAndItsReleaseNeverWaitForTheDisk) {
  EXPECT_EQ(run_without_disk_waits([&] {
              pin_with(set_child_affinity());
              return release(dir(), "c1", lock, holder().process) ? 0 : 1;
            }),
            0);
}

// docs/config.md "After a power loss": records of an earlier boot, and what a power loss
// leaves of them, free every list for the first pin of the new boot.
TEST_F(PinTest, ThePinAfterAPowerLossFindsEveryListFree) {
  write_file(path("boot"), "7d1e2f3a-2222-4b6c-8d9e-0a1b2c3d4e5f\n");
  const std::string last = CpuSet{testing_support::affinity_of(0).last()}.to_string();
  write_file(tasks_path("dataplane", first), std::string(12, '\0'));  // zero-filled
  write_file(tasks_path("dataplane", last), "4");                     // a truncated PID
  write_file(tasks_path("infra", testing_support::affinity_of(0).to_string()), "1");  // reused
  write_file(path("owners/c1.json"), "");                                             // empty
  write_file(path("owners/c2.json"), R"({"owner":"c2","pi)");                         // truncated
  EXPECT_TRUE(dir().records_of_earlier_boot("/proc"));
  const Reservation r = pin_with(set_child_affinity(), {"dataplane", 1, ""});
  EXPECT_EQ(r.cpus, cpus_of(first));
  EXPECT_EQ(tasks("dataplane", first), std::to_string(child.pid()));
  if (last != std::string(first)) {
    EXPECT_EQ(tasks("dataplane", last), "");
  }
  EXPECT_EQ(tasks("infra", testing_support::affinity_of(0).to_string()), "");
  EXPECT_EQ(names_in(path("owners")), std::vector<std::string>{"c1.json"});
  EXPECT_EQ(read_text(path("boot")), read_boot_id("/proc") + "\n");
  EXPECT_FALSE(dir().records_of_earlier_boot("/proc"));
}

TEST_F(PinTest, ReservesThenAppliesTheReservedCpus) {
  std::optional<std::string> tasks_when_applied;
  const Reservation r = pin_with([&](const CpuSet& cpus) {
    tasks_when_applied = tasks("dataplane", first);
    set_affinity_all(Procfs().threads(child.pid()), cpus);
  });
  EXPECT_EQ(tasks_when_applied, std::to_string(child.pid()));  // reserved first
  EXPECT_EQ(r.cpus, cpus_of(first));
  EXPECT_EQ(testing_support::affinity_of(child.pid()), cpus_of(first));
  EXPECT_FALSE(r.existing);
  const std::optional<Owner> record = dir().read_owner("c1");
  ASSERT_TRUE(record.has_value());
  EXPECT_EQ(record->pid, child.pid());
  EXPECT_EQ(record->start_time, *Procfs().start_time(child.pid()));
  EXPECT_THAT(record->cpu_lists, ElementsAre(first));
}

TEST_F(PinTest, PinningTheSameHolderAgainAppliesTheSameLists) {
  const Reservation once = pin_with(set_child_affinity());
  const auto before = state();
  const Reservation again = pin_with(set_child_affinity());
  EXPECT_TRUE(again.existing);
  EXPECT_EQ(again.cpus, once.cpus);
  EXPECT_EQ(state(), before);
}

TEST_F(PinTest, FailedApplyRollsBackTheReservation) {
  const auto before = state();
  auto t = thrown_by([&] {
    pin_with([](const CpuSet&) { throw Error("write \"cpuset.cpus\": Invalid argument"); });
  });
  EXPECT_EQ(t.message, "pin to CPUs " + cpus_of(first).to_string() +
                           " (allocation rolled back): write \"cpuset.cpus\": Invalid argument");
  EXPECT_EQ(t.exit_code, kExitFailure);
  EXPECT_EQ(state(), before);
  EXPECT_EQ(dir().read_owner("c1"), std::nullopt);
}

TEST_F(PinTest, FailedApplyKeepsTheErrorsKind) {
  try {
    pin_with(
        [](const CpuSet&) { throw sys_error("open", "/sys/fs/cgroup/x/cpuset.cpus", ENOENT); });
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_TRUE(e.is_not_found());
    EXPECT_EQ(e.sys_errno(), ENOENT);
  }
}

TEST_F(PinTest, FailedRollbackKeepsBothErrorsAndTheRecord) {
  auto t = thrown_by([&] {
    pin_with([&](const CpuSet&) {
      // The directory breaks under the holder: its tasks file becomes a symlink.
      stdfs::remove(tasks_path("dataplane", first));
      stdfs::create_symlink(tmp / "elsewhere", tasks_path("dataplane", first));
      throw Error("write \"cpuset.cpus\": Invalid argument");
    });
  });
  EXPECT_THAT(t.message, StartsWith("pin to CPUs " + cpus_of(first).to_string() +
                                    ": write \"cpuset.cpus\": Invalid argument; "
                                    "rolling back failed too: "));
  EXPECT_THAT(t.message, HasSubstr("is a symlink"));
  EXPECT_TRUE(dir().read_owner("c1").has_value());  // for reconcile to find
}

TEST_F(PinTest, RefusedReservationNamesWhatAskedAndAppliesNothing) {
  const auto before = state();
  bool applied = false;
  const ApplyCpus apply = [&](const CpuSet&) { applied = true; };
  try {
    pin_with(apply, {"nope", 1, "annotation \"kcm.intel.com/pool\"=\"nope\""});
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "annotation \"kcm.intel.com/pool\"=\"nope\": pool \"nope\" "
              "does not exist in \"" +
                  conf + "\"");
    EXPECT_TRUE(e.is_not_found());
  }
  EXPECT_EQ(thrown_by([&] {
              pin_with(apply, {"nope", 1, ""});
            }).message,
            "pool \"nope\" does not exist in \"" + conf + "\"");
  EXPECT_EQ(thrown_by([&] { pin_with(apply, {"infra", 2, ""}); }).exit_code, kExitUsage);
  EXPECT_FALSE(applied);
  EXPECT_EQ(state(), before);
}

TEST_F(PinTest, AHolderWhoseRecordNamesAnotherLiveProcessIsRefused) {
  Child other;
  pin(
      dir(), find_holder(Procfs(), "c1", other.pid()), {"dataplane", 1, ""}, [](const CpuSet&) {},
      lock, sysfs);
  const auto before = state();
  EXPECT_THAT(thrown_by([&] { pin_with(set_child_affinity()); }).message,
              StartsWith("owner \"c1\" already holds CPU lists for live pid " +
                         std::to_string(other.pid())));
  EXPECT_EQ(state(), before);
}

// --- the holder --------------------------------------------------------------------------

TEST_F(PinTest, FindHolderReadsTheProcessStartTime) {
  const Holder h = holder();
  EXPECT_EQ(h.owner, "c1");
  EXPECT_EQ(h.process.pid, child.pid());
  EXPECT_EQ(h.process.start_time, *Procfs().start_time(child.pid()));
}

TEST_F(PinTest, FindHolderOfAGoneProcessIsNotFound) {
  const pid_t gone = child.pid();
  child.stop();
  try {
    find_holder(Procfs(), "c1", gone);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(std::string(e.what()),
              "read start time of \"/proc/" + std::to_string(gone) + "/stat\": no such process");
    EXPECT_TRUE(e.is_not_found());
  }
}

// --- applying to a container -------------------------------------------------------------

class ApplyToContainerTest : public PinTest {
 protected:
  // A procfs tree whose <pid>/cgroup is `cgroup`, with the child's one thread.
  Procfs fake_procfs(const std::string& cgroup, const std::string& mountinfo = "") const {
    const std::string pid_dir = proc / std::to_string(child.pid());
    write_file(pid_dir + "/cgroup", cgroup);
    write_file(proc / "self/mountinfo", mountinfo);
    stdfs::create_directories(pid_dir + "/task/" + std::to_string(child.pid()));
    return Procfs(proc.path());
  }

  // The hook's order: the cgroup looked up once, then applied.
  void apply(const Procfs& procfs, const CpuSet& cpus) const {
    apply_to_container(procfs, child.pid(),
                       cpuset_cgroup_of(procfs, child.pid(), procfs.path(0, "mountinfo")), cpus);
  }

  TempDir proc;
};

TEST_F(ApplyToContainerTest, RootCgroupProcessGetsTheAffinityOfEveryThread) {
  apply(fake_procfs("0::/\n"), cpus_of(first));
  EXPECT_EQ(testing_support::affinity_of(child.pid()), cpus_of(first));
}

TEST_F(ApplyToContainerTest, CpusetCgroupIsWrittenThenTheAffinity) {
  const std::string cgroup = tmp / "cgroup";
  write_file(cgroup + "/kcm-test/cpuset.cpus", "");
  const Procfs procfs =
      fake_procfs("3:cpuset:/kcm-test\n",
                  "40 30 0:40 / " + cgroup + " rw,relatime shared:9 - cgroup cgroup rw,cpuset\n");
  apply(procfs, cpus_of(first));
  EXPECT_EQ(read_text(cgroup + "/kcm-test/cpuset.cpus"), cpus_of(first).to_string());
  EXPECT_EQ(testing_support::affinity_of(child.pid()), cpus_of(first));
}

TEST_F(ApplyToContainerTest, ProcessWithoutThreadsIsGone) {
  const Procfs procfs = fake_procfs("0::/\n");
  stdfs::remove_all(proc / (std::to_string(child.pid()) + "/task"));
  EXPECT_EQ(thrown_by([&] { apply(procfs, cpus_of(first)); }).message,
            "set CPU affinity of \"pid " + std::to_string(child.pid()) + "\": process is gone");
}

// The hook's whole transaction: a cgroup that cannot be written leaves nothing taken.
TEST_F(ApplyToContainerTest, UnwritableCgroupRollsThePinBack) {
  const std::string cgroup = tmp / "cgroup";
  stdfs::create_directories(cgroup);
  const Procfs procfs =
      fake_procfs("3:cpuset:/kcm-missing\n",
                  "40 30 0:40 / " + cgroup + " rw,relatime shared:9 - cgroup cgroup rw,cpuset\n");
  const auto before = state();
  auto t = thrown_by([&] { pin_with([&](const CpuSet& cpus) { apply(procfs, cpus); }); });
  EXPECT_EQ(t.message, "pin to CPUs " + cpus_of(first).to_string() +
                           " (allocation rolled back): open \"" + cgroup +
                           "/kcm-missing/cpuset.cpus\": No such file or directory");
  EXPECT_EQ(state(), before);
}

// --- memory: local ------------------------------------------------------------------------

TEST_F(ApplyToContainerTest, MemsAreWrittenAfterTheCpus) {
  const std::string cgroup = tmp / "cgroup";
  write_file(cgroup + "/kcm-test/cpuset.cpus", "");
  write_file(cgroup + "/kcm-test/cpuset.mems", "0-1\n");
  const Procfs procfs =
      fake_procfs("3:cpuset:/kcm-test\n",
                  "40 30 0:40 / " + cgroup + " rw,relatime shared:9 - cgroup cgroup rw,cpuset\n");
  apply_to_container(procfs, child.pid(),
                     cpuset_cgroup_of(procfs, child.pid(), procfs.path(0, "mountinfo")),
                     cpus_of(first), CpuSet{1});
  EXPECT_EQ(read_text(cgroup + "/kcm-test/cpuset.cpus"), cpus_of(first).to_string());
  EXPECT_EQ(read_text(cgroup + "/kcm-test/cpuset.mems"), "1");
  EXPECT_EQ(testing_support::affinity_of(child.pid()), cpus_of(first));
}

TEST_F(ApplyToContainerTest, MemsInTheRootCgroupAreRefusedBeforeAnythingIsWritten) {
  const CpuSet before = testing_support::affinity_of(child.pid());
  const Procfs procfs = fake_procfs("0::/\n");
  EXPECT_EQ(thrown_by([&] {
              apply_to_container(procfs, child.pid(), std::nullopt, cpus_of(first), CpuSet{0});
            }).message,
            "set NUMA memory nodes 0 of \"pid " + std::to_string(child.pid()) +
                "\": it is in the root cpuset cgroup, whose cpuset.mems cannot be narrowed");
  EXPECT_EQ(testing_support::affinity_of(child.pid()), before);
}

// The hook's whole transaction: mems that cannot be written leave nothing taken.
TEST_F(ApplyToContainerTest, UnwritableMemsRollThePinBack) {
  const std::string cgroup = tmp / "cgroup";
  write_file(cgroup + "/kcm-test/cpuset.cpus", "");
  const Procfs procfs =
      fake_procfs("3:cpuset:/kcm-test\n",
                  "40 30 0:40 / " + cgroup + " rw,relatime shared:9 - cgroup cgroup rw,cpuset\n");
  const auto found = cpuset_cgroup_of(procfs, child.pid(), procfs.path(0, "mountinfo"));
  stdfs::create_directory(cgroup + "/kcm-test/cpuset.mems");  // a write fails on it
  const auto before = state();
  auto t = thrown_by([&] {
    pin_with([&](const CpuSet& cpus) {
      apply_to_container(procfs, child.pid(), found, cpus, CpuSet{0});
    });
  });
  EXPECT_THAT(t.message, StartsWith("pin to CPUs " + cpus_of(first).to_string() +
                                    " (allocation rolled back): open \"" + cgroup +
                                    "/kcm-test/cpuset.mems\": "));
  EXPECT_EQ(state(), before);
}

// --- a pin for the length of a command --------------------------------------------------

TEST_F(PinTest, WhilePinnedReleasesWhenTheBodyReturns) {
  const auto before = state();
  pin_with(set_child_affinity());
  bool held = false;
  EXPECT_EQ(while_pinned(dir(), holder(), lock,
                         [&] {
                           held = tasks("dataplane", first) == std::to_string(child.pid());
                           return 7;
                         }),
            7);
  EXPECT_TRUE(held);
  EXPECT_EQ(state(), before);
}

TEST_F(PinTest, WhilePinnedRollsBackAndRethrowsWhenTheBodyThrows) {
  const auto before = state();
  pin_with(set_child_affinity());
  EXPECT_EQ(thrown_by([&] {
              while_pinned(dir(), holder(), lock,
                           []() -> int { throw Error("fork \"/bin/sh\": Resource busy"); });
            }).message,
            "fork \"/bin/sh\": Resource busy");
  EXPECT_EQ(state(), before);
}

}  // namespace
}  // namespace kcm
