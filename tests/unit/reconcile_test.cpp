// Reconciliation judged from config directories and fake procfs trees: which tasks and
// records reconcile removes, what it writes, and the node-report checks.
#include "reconcile.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/inotify.h>
#include <sys/wait.h>
#include <unistd.h>

#include <functional>
#include <map>
#include <stdexcept>

#include "affinity.h"
#include "test_support.h"

namespace kcm {
namespace {

using nlohmann::json;
using testing::ElementsAre;
using testing::IsEmpty;
using namespace testing_support;

const std::string kFixtures = KCM_FIXTURES_DIR;

Owner owner(const std::string& id, pid_t pid, std::uint64_t start, const std::string& pool,
            std::vector<CpuListName> lists) {
  return Owner{id, pid, start, pool, std::move(lists), "2026-11-30T04:17:45Z"};
}

std::vector<pid_t> pids_of(const std::vector<ReclaimedTask>& tasks) {
  std::vector<pid_t> out;
  for (const auto& t : tasks) out.push_back(t.pid);
  return out;
}

std::vector<std::string> ids_of(const std::vector<Owner>& owners) {
  std::vector<std::string> out;
  for (const auto& o : owners) out.push_back(o.owner);
  return out;
}

// The node-report document of `dir` as `kcm node-report` makes it.
json node_report(const ConfigDir* dir, const std::string& path,
                 const std::optional<Topology>& topology, const Procfs* procfs) {
  return node_report_json(check_node(dir, path, topology, procfs));
}

// --- reconcile ------------------------------------------------------------------------

// dataplane 4,12: 2000 live; 5,13: 2001 dead; 6,14: 2002 live but started at another time
// than its record says; infra: 3000 live on the wrong CPUs, 3001 a zombie.
class ReconcileTest : public ConfDirTest {
 protected:
  void SetUp() override {
    write_file(conf + "/pools/dataplane/exclusive", "1");
    write_file(conf + "/pools/dataplane/4,12/tasks", "2000");
    write_file(conf + "/pools/dataplane/5,13/tasks", "2001");
    write_file(conf + "/pools/dataplane/6,14/tasks", "2002");
    write_file(conf + "/pools/dataplane/7,15/tasks", "");
    write_file(conf + "/pools/infra/exclusive", "0");
    write_file(conf + "/pools/infra/0-2,8-10/tasks", "3000,3001");
    proc.add_process(2000, 100, "4,12");
    proc.add_process(2002, 999, "6,14");
    proc.add_process(3000, 300, "0-15");
    proc.add_process(3001, 301, "0-2,8-10", 'Z');
    const ConfigDir dir = ConfigDir::open(conf);
    dir.write_owner(owner("c2000", 2000, 100, "dataplane", {"4,12"}));
    dir.write_owner(owner("c2001", 2001, 101, "dataplane", {"5,13"}));
    dir.write_owner(owner("c2002", 2002, 500, "dataplane", {"6,14"}));
    dir.write_owner(owner("c5000", 5000, 7, "dataplane", {}));
  }
  Reconciliation build() const {
    const ConfigDir dir = ConfigDir::open(conf);
    return judge_reconcile(dir.read(), dir.read_owners(), Procfs(proc.root()));
  }

  FakeProcfs proc;
};

TEST_F(ReconcileTest, DeadZombieAndReusedPidsAreReclaimed) {
  const ReconcileReport r = build().report;
  ASSERT_THAT(pids_of(r.reclaimed), ElementsAre(2001, 2002, 3001));
  EXPECT_EQ(r.reclaimed[0].pool, "dataplane");
  EXPECT_EQ(r.reclaimed[0].cpus, "5,13");
  EXPECT_EQ(r.reclaimed[1].pool, "dataplane");
  EXPECT_EQ(r.reclaimed[1].cpus, "6,14");
  EXPECT_EQ(r.reclaimed[2].pool, "infra");
  EXPECT_EQ(r.reclaimed[2].cpus, "0-2,8-10");
}

TEST_F(ReconcileTest, LiveTaskOnWrongCpusIsReportedWithActualCpus) {
  const ReconcileReport r = build().report;
  ASSERT_EQ(r.mismatched.size(), 1u);
  EXPECT_EQ(r.mismatched[0].pid, 3000);
  EXPECT_EQ(r.mismatched[0].pool, "infra");
  EXPECT_EQ(r.mismatched[0].cpus, "0-2,8-10");
  EXPECT_EQ(r.mismatched[0].actual, CpuSet::parse("0-15"));
}

TEST_F(ReconcileTest, OwnersOfDeadOrReusedPidsAreStale) {
  EXPECT_THAT(ids_of(build().stale_owners), ElementsAre("c2001", "c2002", "c5000"));
}

TEST_F(ReconcileTest, LiveTaskWithoutOwnerRecordIsKept) {
  // The original tool writes no owner records: a live pid is simply kept.
  write_file(conf + "/pools/dataplane/7,15/tasks", "4000");
  proc.add_process(4000, 1, "7,15");
  const ReconcileReport r = build().report;
  EXPECT_THAT(pids_of(r.reclaimed), ElementsAre(2001, 2002, 3001));
  EXPECT_EQ(r.mismatched.size(), 1u);
}

TEST_F(ReconcileTest, JsonHasTheDocumentShape) {
  EXPECT_EQ(reconcile_json(build().report), json::parse(R"({
              "mismatchedCpuMasks": [
                {"actualCpus": [0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15], "cpus": "0-2,8-10",
                 "pid": 3000, "pool": "infra"}
              ],
              "reclaimedCpuLists": [
                {"cpus": "5,13", "pid": 2001, "pool": "dataplane"},
                {"cpus": "6,14", "pid": 2002, "pool": "dataplane"},
                {"cpus": "0-2,8-10", "pid": 3001, "pool": "infra"}
              ]
            })"));
}

TEST(JudgeReconcileTest, ReclaimedAreSortedByPidAcrossPools) {
  // Pools are walked by name (dataplane before infra); the report is by pid.
  TempDir tmp;
  write_file(tmp / "pools/dataplane/exclusive", "1");
  write_file(tmp / "pools/dataplane/4,12/tasks", "900,300");
  write_file(tmp / "pools/infra/exclusive", "0");
  write_file(tmp / "pools/infra/0-3/tasks", "100,700");
  FakeProcfs proc;
  const ReconcileReport r =
      judge_reconcile(ConfigDir::open(tmp.path()).read(), {}, Procfs(proc.root())).report;
  EXPECT_THAT(pids_of(r.reclaimed), ElementsAre(100, 300, 700, 900));
  const json j = reconcile_json(r);
  ASSERT_EQ(j["reclaimedCpuLists"].size(), 4u);
  EXPECT_EQ(j["reclaimedCpuLists"][0]["pid"], 100);
  EXPECT_EQ(j["reclaimedCpuLists"][0]["pool"], "infra");
  EXPECT_EQ(j["reclaimedCpuLists"][1]["pid"], 300);
  EXPECT_EQ(j["reclaimedCpuLists"][1]["pool"], "dataplane");
}

TEST(JudgeReconcileTest, MismatchedAreSortedByPid) {
  // dataplane (walked first) holds pid 20, infra pid 10; both run on other CPUs.
  TempDir tmp;
  write_file(tmp / "pools/dataplane/exclusive", "1");
  write_file(tmp / "pools/dataplane/4/tasks", "20");
  write_file(tmp / "pools/infra/exclusive", "0");
  write_file(tmp / "pools/infra/0/tasks", "10");
  FakeProcfs proc;
  proc.add_process(20, 1, "5");
  proc.add_process(10, 1, "1");
  const ReconcileReport built =
      judge_reconcile(ConfigDir::open(tmp.path()).read(), {}, Procfs(proc.root())).report;
  ASSERT_EQ(built.mismatched.size(), 2u);
  EXPECT_EQ(built.mismatched[0].pid, 10);
  EXPECT_EQ(built.mismatched[1].pid, 20);
  EXPECT_EQ(reconcile_json(built)["mismatchedCpuMasks"][0]["actualCpus"], json::array({1}));
}

TEST_F(ReconcileTest, ReusedPidOfAStaleRecordDoesNotReclaimTheLiveHoldersList) {
  // pid 2000 now belongs to c2000 (start 100, list 4,12). An older holder "old" with the same
  // pid (start 50) died without cleaning up and left 2000 in 7,15. Only that one is stale.
  write_file(conf + "/pools/dataplane/7,15/tasks", "2000");
  ConfigDir::open(conf).write_owner(owner("old", 2000, 50, "dataplane", {"7,15"}));
  const Reconciliation r = build();
  std::vector<std::string> reclaimed_lists;
  for (const auto& t : r.report.reclaimed) {
    if (t.pid == 2000) reclaimed_lists.push_back(t.cpus);
  }
  EXPECT_THAT(reclaimed_lists, ElementsAre("7,15"));
  EXPECT_THAT(ids_of(r.stale_owners), ElementsAre("c2001", "c2002", "c5000", "old"));
}

// Only a PID that is provably gone or reused loses its CPUs. The original kcm's fixtures
// hold PIDs whose /proc directory has only a status file: those are kept.
TEST_F(ReconcileTest, PidThatProcfsCannotJudgeIsKept) {
  write_file(conf + "/pools/dataplane/7,15/tasks", "1");
  write_file(proc.root() + "/1/status", "Name:\tinit\nCpus_allowed_list:\t7,15\n");
  write_file(proc.root() + "/2001/status", "Name:\tx\nCpus_allowed_list:\t5,13\n");
  const Reconciliation r = build();
  EXPECT_THAT(pids_of(r.report.reclaimed), ElementsAre(2002, 3001));
  EXPECT_THAT(ids_of(r.stale_owners), ElementsAre("c2002", "c5000"));
}

TEST_F(ReconcileTest, ApplyRemovesReclaimedTasksAndStaleOwners) {
  const ConfigDir dir = ConfigDir::open(conf);
  apply_reconcile(dir, build());
  EXPECT_EQ(read_text(conf + "/pools/dataplane/4,12/tasks"), "2000");
  EXPECT_EQ(read_text(conf + "/pools/dataplane/5,13/tasks"), "");
  EXPECT_EQ(read_text(conf + "/pools/dataplane/6,14/tasks"), "");
  EXPECT_EQ(read_text(conf + "/pools/infra/0-2,8-10/tasks"), "3000");
  EXPECT_THAT(ids_of(dir.read_owners()), ElementsAre("c2000"));
  // A second pass finds nothing left to reclaim.
  const Reconciliation again = build();
  EXPECT_THAT(again.report.reclaimed, IsEmpty());
  EXPECT_THAT(again.stale_owners, IsEmpty());
}

TEST_F(ReconcileTest, ApplyRemovesAPidListedInTwoListsOfOnePool) {
  write_file(conf + "/pools/infra/3,11/tasks", "3001,3000");
  const ConfigDir dir = ConfigDir::open(conf);
  apply_reconcile(dir, build());
  EXPECT_EQ(read_text(conf + "/pools/infra/0-2,8-10/tasks"), "3000");
  EXPECT_EQ(read_text(conf + "/pools/infra/3,11/tasks"), "3000");
}

TEST_F(ReconcileTest, EachChangedTasksFileIsRewrittenOnceWithoutAllItsReclaimedTasks) {
  write_file(conf + "/pools/infra/0-2,8-10/tasks", "3001,3000,3001,9001");
  const Reconciliation found = build();
  ASSERT_EQ(found.rewrites.size(), 3u);
  EXPECT_EQ(found.rewrites[0].pool, "dataplane");
  EXPECT_EQ(found.rewrites[0].list, "5,13");
  EXPECT_THAT(found.rewrites[0].tasks, IsEmpty());
  EXPECT_EQ(found.rewrites[1].list, "6,14");
  EXPECT_EQ(found.rewrites[2].pool, "infra");
  EXPECT_EQ(found.rewrites[2].list, "0-2,8-10");
  EXPECT_THAT(found.rewrites[2].tasks, ElementsAre(3000));
}

// --- work proportional to the directory -----------------------------------------------

// Counts, with inotify, what happens to the entries of some directories: how often the
// code opens or replaces a file, observed without timing it. The kernel queues an event
// during the call that causes it, so counts() after a call sees all of them. It merges an
// event into the last one queued when they are equal, so a watch also takes the event
// that follows a counted one (the close after an open; the temp file's move away before
// the rename onto the name) and counts() counts only the `counted` ones.
class FileEvents {
 public:
  FileEvents() : fd_(::inotify_init1(IN_NONBLOCK | IN_CLOEXEC)) {
    if (!fd_.valid()) throw std::runtime_error("inotify_init1 failed");
  }

  void watch(const std::string& dir, std::uint32_t mask) {
    const int wd = ::inotify_add_watch(fd_.get(), dir.c_str(), mask);
    if (wd < 0) throw std::runtime_error("inotify_add_watch " + dir + " failed");
    dirs_[wd] = dir;
  }

  // The `counted` events since the last call, by "<dir>/<name>".
  std::map<std::string, int> counts(std::uint32_t counted) {
    std::map<std::string, int> out;
    alignas(inotify_event) char buf[64 * 1024];
    for (ssize_t n; (n = ::read(fd_.get(), buf, sizeof buf)) > 0;) {
      for (char* p = buf; p < buf + n;) {
        const auto* ev = reinterpret_cast<const inotify_event*>(p);
        if ((ev->mask & IN_Q_OVERFLOW) != 0) throw std::runtime_error("inotify queue overflow");
        if ((ev->mask & counted) != 0 && ev->len > 0) ++out[dirs_.at(ev->wd) + "/" + ev->name];
        p += sizeof(inotify_event) + ev->len;
      }
    }
    return out;
  }

 private:
  UniqueFd fd_;
  std::map<int, std::string> dirs_;
};

// After a reboot every holder is gone: one shared list holds many dead tasks (one of them
// twice), each exclusive list one. Each tasks file that changes is replaced once.
TEST(ProportionalWorkTest, ApplyReplacesEachChangedTasksFileOnce) {
  TempDir tmp;
  const std::string conf = tmp / "conf";
  std::string shared = "5000";
  // Appended in two steps: `"," + std::to_string(pid)` trips GCC 12's -Wrestrict false
  // positive at -O3 (GCC bug 105329), which fails a -Werror release build.
  for (pid_t pid = 6000; pid < 6300; ++pid) (shared += ',') += std::to_string(pid);
  write_file(conf + "/pools/infra/exclusive", "0");
  write_file(conf + "/pools/infra/0-3/tasks", shared + ",6000");
  write_file(conf + "/pools/dataplane/exclusive", "1");
  write_file(conf + "/pools/dataplane/4/tasks", "7004");
  write_file(conf + "/pools/dataplane/5/tasks", "7005");
  write_file(conf + "/pools/dataplane/6/tasks", "5001");
  write_file(conf + "/pools/dataplane/7/tasks", "");
  FakeProcfs proc;
  proc.add_process(5000, 1, "0-3");
  proc.add_process(5001, 1, "6");
  const ConfigDir dir = ConfigDir::open(conf);
  const Reconciliation found = judge_reconcile(dir.read(), dir.read_owners(), Procfs(proc.root()));
  EXPECT_EQ(found.report.reclaimed.size(), 303u);

  FileEvents events;
  for (const std::string list :
       {"infra/0-3", "dataplane/4", "dataplane/5", "dataplane/6", "dataplane/7"}) {
    events.watch(conf + "/pools/" + list, IN_MOVED_FROM | IN_MOVED_TO);
  }
  apply_reconcile(dir, found);
  // Each replacement moves a temp file to "tasks" (and, swapped, the old one to the temp
  // name, which is then removed): count the moves to "tasks".
  std::map<std::string, int> replaced = events.counts(IN_MOVED_TO);
  std::erase_if(replaced, [](const auto& entry) { return !entry.first.ends_with("/tasks"); });
  EXPECT_EQ(replaced, (std::map<std::string, int>{
                          {conf + "/pools/infra/0-3/tasks", 1},
                          {conf + "/pools/dataplane/4/tasks", 1},
                          {conf + "/pools/dataplane/5/tasks", 1},
                      }));
  EXPECT_EQ(read_text(conf + "/pools/infra/0-3/tasks"), "5000");
  EXPECT_EQ(read_text(conf + "/pools/dataplane/6/tasks"), "5001");
}

// A PID named by several lists and records is read from procfs once: its stat once, its
// status (Cpus_allowed_list) at most once, by reconcile and by node-report's two checks.
class ProcfsReadsTest : public ConfDirTest {
 protected:
  void SetUp() override {
    // 4000 and 4001 run on CPUs 0-3, in both shared pools; 6000.. are zombies, two to a
    // list, and every one has a record.
    write_file(conf + "/pools/infra/exclusive", "0");
    write_file(conf + "/pools/infra/0-3/tasks", "4000,4001,6000,6001");
    write_file(conf + "/pools/infra/8-11/tasks", "6002,6003,4000");
    write_file(conf + "/pools/controlplane/exclusive", "0");
    write_file(conf + "/pools/controlplane/12-15/tasks", "4001,6004,6005,4000");
    write_file(conf + "/pools/dataplane/exclusive", "1");
    write_file(conf + "/pools/dataplane/4/tasks", "6006,6007");
    const ConfigDir dir = ConfigDir::open(conf);
    dir.write_owner(owner("a", 4000, 1, "infra", {"0-3", "8-11"}));
    dir.write_owner(owner("b", 4001, 1, "controlplane", {"12-15"}));
    for (pid_t pid : {4000, 4001}) add(pid, 'S');
    for (pid_t pid = 6000; pid < 6008; ++pid) {
      add(pid, 'Z');
      std::string name = "z";  // not "z" + ...: GCC bug 105329, as above
      dir.write_owner(owner(name += std::to_string(pid), pid, 1, "infra", {"0-3"}));
    }
  }

  void add(pid_t pid, char state) {
    proc.add_process(pid, 1, "0-3", state);
    pids.push_back(pid);
  }

  // Each PID's files and how often they were opened, once the watches are set.
  std::map<std::string, int> reads_by(const std::function<void()>& run) const {
    FileEvents events;
    for (pid_t pid : pids)
      events.watch(proc.root() + "/" + std::to_string(pid), IN_OPEN | IN_CLOSE);
    run();
    return events.counts(IN_OPEN);
  }

  void expect_each_read_once(const std::map<std::string, int>& reads) const {
    for (pid_t pid : pids) {
      const std::string base = proc.root() + "/" + std::to_string(pid);
      EXPECT_EQ(reads.count(base + "/stat") ? reads.at(base + "/stat") : 0, 1) << pid;
      EXPECT_LE(reads.count(base + "/status") ? reads.at(base + "/status") : 0, 1) << pid;
    }
  }

  FakeProcfs proc;
  std::vector<pid_t> pids;
};

TEST_F(ProcfsReadsTest, ReconcileReadsEachPidOnce) {
  const ConfigDir dir = ConfigDir::open(conf);
  const Config config = dir.read();
  const std::vector<Owner> owners = dir.read_owners();
  Reconciliation found;
  expect_each_read_once(
      reads_by([&] { found = judge_reconcile(config, owners, Procfs(proc.root())); }));
  EXPECT_EQ(found.report.reclaimed.size(), 8u);
  EXPECT_EQ(found.report.mismatched.size(), 3u);  // 4000 and 4001 outside 0-3
  EXPECT_EQ(found.stale_owners.size(), 8u);
}

TEST_F(ProcfsReadsTest, NodeReportReadsEachPidOnce) {
  const ConfigDir dir = ConfigDir::open(conf);
  const Procfs procfs(proc.root());
  NodeReport report;
  expect_each_read_once(reads_by([&] { report = check_node(&dir, conf, std::nullopt, &procfs); }));
  ASSERT_TRUE(report.task_errors && report.owner_errors);
  EXPECT_EQ(report.task_errors->size(), 8u);
  EXPECT_EQ(report.owner_errors->size(), 8u);  // the zombies' records
}

// --- node-report ----------------------------------------------------------------------

json ok_check() { return {{"errors", json::array()}, {"ok", true}}; }

TEST(NodeReportTest, HealthyDirectoryIsOkAndDescribed) {
  TempDir tmp;
  make_example_conf(tmp / "conf");
  const ConfigDir dir = ConfigDir::open(tmp / "conf");
  const json report = node_report(&dir, "/etc/kcm", std::nullopt, nullptr);
  EXPECT_EQ(report["checks"], json({{"configDirectory", ok_check()}}));
  EXPECT_EQ(report["description"], describe_json("/etc/kcm", dir.read()));
}

TEST(NodeReportTest, OverlapIsReportedWithBothListsAndSharedCpus) {
  TempDir tmp;
  make_example_conf(tmp / "conf");
  write_file(tmp / "conf/pools/infra/3-4/tasks", "");  // overlaps controlplane and dataplane
  const ConfigDir dir = ConfigDir::open(tmp / "conf");
  const json report = node_report(&dir, "/etc/kcm", std::nullopt, nullptr);
  EXPECT_EQ(report["checks"]["configDirectory"],
            json({{"errors",
                   {"CPU list overlap detected in controlplane:3,11 and infra:3-4 (in both: 3)",
                    "CPU list overlap detected in dataplane:4,12 and infra:3-4 (in both: 4)"}},
                  {"ok", false}}));
}

TEST(NodeReportTest, EachOverlappingPairIsReportedOnceInListOrder) {
  // p:0-3 and p:2-5 share two CPUs; CPU 3 is in all three lists.
  TempDir tmp;
  write_file(tmp / "pools/p/exclusive", "0");
  write_file(tmp / "pools/p/2-5/tasks", "");
  write_file(tmp / "pools/p/0-3/tasks", "");
  write_file(tmp / "pools/q/exclusive", "0");
  write_file(tmp / "pools/q/3,7/tasks", "");
  const ConfigDir dir = ConfigDir::open(tmp.path());
  EXPECT_THAT(check_node(&dir, "/c", std::nullopt, nullptr).config_errors,
              ElementsAre("CPU list overlap detected in p:0-3 and p:2-5 (in both: 2,3)",
                          "CPU list overlap detected in p:0-3 and q:3,7 (in both: 3)",
                          "CPU list overlap detected in p:2-5 and q:3,7 (in both: 3)"));
}

TEST(NodeReportTest, PoolWithoutListsIsReported) {
  TempDir tmp;
  make_example_conf(tmp / "conf");
  write_file(tmp / "conf/pools/spare/exclusive", "1");
  const ConfigDir dir = ConfigDir::open(tmp / "conf");
  const json report = node_report(&dir, "/etc/kcm", std::nullopt, nullptr);
  EXPECT_EQ(report["checks"]["configDirectory"]["errors"],
            json::array({"Pool \"spare\" has no CPU lists"}));
  EXPECT_EQ(report["checks"]["configDirectory"]["ok"], false);
}

TEST(NodeReportTest, OfflineAndAbsentCpusAreFlagged) {
  // 16amd64-8n2c-cpusets: CPU 4 is offline, 0-3,5-15 online.
  const Topology topology = Topology::read(kFixtures + "/topologies/16amd64-8n2c-cpusets/sys");
  TempDir tmp;
  make_example_conf(tmp / "conf");
  write_file(tmp / "conf/pools/spare/exclusive", "1");
  write_file(tmp / "conf/pools/spare/16,17/tasks", "");
  const ConfigDir dir = ConfigDir::open(tmp / "conf");
  const json report = node_report(&dir, "/etc/kcm", topology, nullptr);
  EXPECT_EQ(report["checks"]["cpus"],
            json({{"errors",
                   {"CPU list dataplane:4,12 names CPUs that are offline or absent: 4",
                    "CPU list spare:16,17 names CPUs that are offline or absent: 16,17"}},
                  {"ok", false}}));
  EXPECT_EQ(report["checks"]["configDirectory"], ok_check());
}

TEST(NodeReportTest, AllCpusOnlineIsOk) {
  const Topology topology = Topology::read(kFixtures + "/topologies/64amd64-4p2n4ca2co/sys");
  TempDir tmp;
  make_example_conf(tmp / "conf");
  const ConfigDir dir = ConfigDir::open(tmp / "conf");
  EXPECT_EQ(node_report(&dir, "/etc/kcm", topology, nullptr)["checks"]["cpus"], ok_check());
}

TEST(NodeReportTest, MissingDirectoryIsReported) {
  const json report = node_report(nullptr, "/etc/kcm", std::nullopt, nullptr);
  EXPECT_EQ(report,
            json({{"checks",
                   {{"configDirectory",
                     {{"errors", {"Unable to open the KCM configuration directory \"/etc/kcm\""}},
                      {"ok", false}}}}},
                  {"description", nullptr}}));
}

TEST(NodeReportTest, UnreadableDirectoryIsReportedWithTheCause) {
  TempDir tmp;
  make_example_conf(tmp / "conf");
  write_file(tmp / "conf/pools/infra/0-2,8-10/tasks", "abc");
  const ConfigDir dir = ConfigDir::open(tmp / "conf");
  const json report = node_report(&dir, tmp / "conf", std::nullopt, nullptr);
  EXPECT_EQ(report["checks"]["configDirectory"]["errors"],
            json::array({"Unable to read the KCM configuration directory: parse \"" +
                         (tmp / "conf") + "/pools/infra/0-2,8-10/tasks\": invalid PID \"abc\""}));
  EXPECT_EQ(report["description"], nullptr);
}

TEST(NodeReportTest, TasksThatReconcileWouldReclaimAreReported) {
  TempDir tmp;
  make_example_conf(tmp / "conf");
  FakeProcfs proc;
  for (pid_t pid : {1000, 1001, 1002, 1003, 2000, 2002, 2003, 3000, 3001, 3002}) {
    proc.add_process(pid, 1, "0-15");
  }
  const ConfigDir dir = ConfigDir::open(tmp / "conf");
  const Procfs procfs(proc.root());
  const json report = node_report(&dir, "/etc/kcm", std::nullopt, &procfs);
  EXPECT_EQ(report["checks"]["tasks"],
            json({{"errors",
                   {"Task 2001 in dataplane:5,13 is not running (kcm reconcile would reclaim it)"}},
                  {"ok", false}}));
}
// --- ownership ------------------------------------------------------------------------

class OwnershipTest : public ConfDirTest {
 protected:
  void SetUp() override {
    make_example_conf(conf);
    for (pid_t pid : {1000, 1001, 1002, 1003, 2000, 2001, 2002, 2003, 3000, 3001, 3002}) {
      proc.add_process(pid, 1, "0-15");
    }
  }
  std::vector<std::string> errors(const std::vector<Owner>& owners) const {
    return ownership_errors(ConfigDir::open(conf).read(), owners, Procfs(proc.root()));
  }
  FakeProcfs proc;
};

TEST_F(OwnershipTest, OneHolderPerExclusiveListAndRecordsThatMatchAreOk) {
  EXPECT_THAT(errors({owner("c", 2000, 1, "dataplane", {"4,12"}),
                      owner("i", 3000, 1, "infra", {"0-2,8-10"})}),
              IsEmpty());
}

TEST_F(OwnershipTest, ExclusiveListWithTwoRunningHoldersIsReported) {
  write_file(conf + "/pools/dataplane/4,12/tasks", "2000,2001,9999");  // 9999 is gone
  EXPECT_THAT(errors({}), ElementsAre("Exclusive CPU list dataplane:4,12 is held by 2 running "
                                      "processes: 2000, 2001"));
}

TEST_F(OwnershipTest, RunningHolderMissingFromItsRecordedListIsReported) {
  EXPECT_THAT(errors({owner("c", 2000, 1, "dataplane", {"4,12", "5,13"})}),
              ElementsAre("Owner \"c\" (pid 2000) is recorded on dataplane:5,13, whose tasks "
                          "file does not list it"));
}

TEST_F(OwnershipTest, RecordOfAGoneHolderIsReported) {
  EXPECT_THAT(errors({owner("c", 2000, 7, "dataplane", {"4,12"})}),
              ElementsAre("Owner \"c\" (pid 2000) is not running (kcm reconcile would remove "
                          "its record)"));
}

TEST_F(OwnershipTest, NodeReportHasTheOwnersCheck) {
  write_file(conf + "/pools/dataplane/4,12/tasks", "2000,2001");
  const ConfigDir dir = ConfigDir::open(conf);
  const Procfs procfs(proc.root());
  const json report = node_report(&dir, "/etc/kcm", std::nullopt, &procfs);
  EXPECT_EQ(report["checks"]["owners"]["ok"], false);
  EXPECT_EQ(report["checks"]["owners"]["errors"].size(), 1u);
}

TEST(NodeReportTest, ChecksWithoutTheirInputsAreLeftOut) {
  TempDir tmp;
  make_example_conf(tmp / "conf");
  const ConfigDir dir = ConfigDir::open(tmp / "conf");
  const json checks = node_report(&dir, "/etc/kcm", std::nullopt, nullptr)["checks"];
  EXPECT_FALSE(checks.contains("cpus"));
  EXPECT_FALSE(checks.contains("tasks"));
  EXPECT_FALSE(checks.contains("owners"));
}

}  // namespace
}  // namespace kcm

// --- reconcile --repair ---------------------------------------------------------------

namespace kcm {
namespace {

// A real process whose mask a repair changes: it waits until the test kills it.
class PausedChild {
 public:
  PausedChild() : pid_(::fork()) {
    if (pid_ == 0) {
      for (;;) ::pause();
    }
  }
  ~PausedChild() { stop(); }
  void stop() {
    if (pid_ <= 0) return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
  PausedChild(const PausedChild&) = delete;
  PausedChild& operator=(const PausedChild&) = delete;
  pid_t pid() const { return pid_; }

 private:
  pid_t pid_;
};

// A child holding list `first` of an exclusive pool (and, when `both`, the list `last`
// too), its affinity moved by hand to `last` alone.
class RepairTest : public ConfDirTest {
 protected:
  void SetUp() override {
    const CpuSet allowed = affinity_of(0);
    if (allowed.size() < 2) GTEST_SKIP() << "needs two CPUs";
    ASSERT_GT(child.pid(), 0);
    first = CpuSet{allowed.first()};
    last = CpuSet{allowed.last()};
    write_file(conf + "/pools/dataplane/exclusive", "1");
    write_file(conf + "/pools/dataplane/" + first.to_string() + "/tasks",
               std::to_string(child.pid()));
    write_file(conf + "/pools/dataplane/" + last.to_string() + "/tasks", "");
    set_affinity(child.pid(), last);
  }

  std::vector<MaskRepair> repair(const std::vector<Owner>& owners,
                                 const std::string& mountinfo = "/proc/self/mountinfo") const {
    const Config config = ConfigDir::open(conf).read();
    const Procfs procfs("/proc");
    return repair_masks(config, owners, judge_reconcile(config, owners, procfs), procfs, mountinfo);
  }

  PausedChild child;
  CpuSet first, last;
};

TEST_F(RepairTest, MismatchedHolderGetsItsListBack) {
  const std::vector<MaskRepair> repairs = repair({});
  ASSERT_EQ(repairs.size(), 1U);
  EXPECT_EQ(repairs[0].pid, child.pid());
  EXPECT_EQ(repairs[0].pool, "dataplane");
  EXPECT_EQ(repairs[0].expected, first);
  EXPECT_EQ(repairs[0].previous, last);
  EXPECT_EQ(repairs[0].cgroup, "");  // no record: affinity only
  EXPECT_EQ(repairs[0].error, "");
  EXPECT_EQ(affinity_of(child.pid()), first);
  EXPECT_EQ(repairs_json(repairs), json::parse(R"([{"cpus": ")" + first.to_string() +
                                               R"(", "pid": )" + std::to_string(child.pid()) +
                                               R"(, "pool": "dataplane", "previousCpus": [)" +
                                               std::to_string(last.first()) + "]}]"));
  // Repaired: a second pass finds nothing to change.
  EXPECT_THAT(repair({}), IsEmpty());
}

TEST_F(RepairTest, HolderOfTwoListsOnBothIsLeftAlone) {
  write_file(conf + "/pools/dataplane/" + last.to_string() + "/tasks", std::to_string(child.pid()));
  CpuSet both = first;
  both.add(last);
  set_affinity(child.pid(), both);
  EXPECT_THAT(repair({}), IsEmpty());
  EXPECT_EQ(affinity_of(child.pid()), both);
}

TEST_F(RepairTest, IsolateHolderKeepsItsCgroup) {
  // A mount table that would make any cgroup of the child writable under tmp: an isolate
  // record must not use it.
  const std::string mountinfo = tmp / "mountinfo";
  write_file(mountinfo, "30 1 0:26 / " + (tmp / "cg") + " rw - cgroup2 cgroup2 rw\n");
  const std::string id = "isolate-" + std::to_string(child.pid());
  const std::vector<MaskRepair> repairs =
      repair({owner(id, child.pid(), *Procfs("/proc").start_time(child.pid()), "dataplane",
                    {CpuListName::parse(first.to_string())})},
             mountinfo);
  ASSERT_EQ(repairs.size(), 1U);
  EXPECT_EQ(repairs[0].cgroup, "");
  EXPECT_EQ(affinity_of(child.pid()), first);
}

TEST_F(RepairTest, ContainerHolderGetsItsCpusetRewrittenFirst) {
  // A procfs that shows the real child in a cgroup v2 cgroup, its real thread to pin, and
  // a mount table mapping the cgroup2 root to tmp/cg; there, cpuset.cpus as moved by hand
  // and the effective set the kernel would report once it is written back.
  FakeProcfs proc;
  proc.add_process(child.pid(), 1, last.to_string());
  const std::string base = proc.root() + "/" + std::to_string(child.pid());
  write_file(base + "/cgroup", "0::/kubepods/c1\n");
  write_file(base + "/task/" + std::to_string(child.pid()) + "/stat", "");
  const std::string dir = tmp / "cg/kubepods/c1";
  write_file(dir + "/cpuset.cpus", last.to_string() + "\n");
  write_file(dir + "/cpuset.cpus.effective", first.to_string() + "\n");
  const std::string mountinfo = tmp / "mountinfo";
  write_file(mountinfo, "30 1 0:26 / " + (tmp / "cg") + " rw - cgroup2 cgroup2 rw\n");
  const std::vector<Owner> owners = {
      owner("c1", child.pid(), 1, "dataplane", {CpuListName::parse(first.to_string())})};
  const Config config = ConfigDir::open(conf).read();
  const Procfs procfs(proc.root());
  const std::vector<MaskRepair> repairs =
      repair_masks(config, owners, judge_reconcile(config, owners, procfs), procfs, mountinfo);
  ASSERT_EQ(repairs.size(), 1U);
  EXPECT_EQ(repairs[0].error, "");
  EXPECT_EQ(repairs[0].cgroup, dir);
  EXPECT_EQ(read_text(dir + "/cpuset.cpus"), first.to_string());
  EXPECT_EQ(affinity_of(child.pid()), first);
}

TEST_F(RepairTest, CpusetThatStillMatchesIsNotRewritten) {
  FakeProcfs proc;
  proc.add_process(child.pid(), 1, last.to_string());
  const std::string base = proc.root() + "/" + std::to_string(child.pid());
  write_file(base + "/cgroup", "0::/kubepods/c1\n");
  write_file(base + "/task/" + std::to_string(child.pid()) + "/stat", "");
  const std::string dir = tmp / "cg/kubepods/c1";
  write_file(dir + "/cpuset.cpus", first.to_string() + "\n");
  const std::string mountinfo = tmp / "mountinfo";
  write_file(mountinfo, "30 1 0:26 / " + (tmp / "cg") + " rw - cgroup2 cgroup2 rw\n");
  const std::vector<Owner> owners = {
      owner("c1", child.pid(), 1, "dataplane", {CpuListName::parse(first.to_string())})};
  const Config config = ConfigDir::open(conf).read();
  const Procfs procfs(proc.root());
  const std::vector<MaskRepair> repairs =
      repair_masks(config, owners, judge_reconcile(config, owners, procfs), procfs, mountinfo);
  ASSERT_EQ(repairs.size(), 1U);
  EXPECT_EQ(repairs[0].error, "");
  EXPECT_EQ(repairs[0].cgroup, "");
  EXPECT_EQ(affinity_of(child.pid()), first);
}

TEST_F(RepairTest, GoneHolderIsReportedNotThrown) {
  const Config config = ConfigDir::open(conf).read();
  const Procfs procfs("/proc");
  const Reconciliation found = judge_reconcile(config, {}, procfs);
  child.stop();
  const std::vector<MaskRepair> repairs =
      repair_masks(config, {}, found, procfs, "/proc/self/mountinfo");
  ASSERT_EQ(repairs.size(), 1U);
  EXPECT_THAT(repairs[0].error, testing::HasSubstr("process is gone"));
}

}  // namespace
}  // namespace kcm
