// The isolation audit on the fixture node of tests/fixtures/audit/README.md.
#include "audit.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>

#include "test_support.h"

namespace kcm {
namespace {

using testing::ElementsAre;
using testing::HasSubstr;
using namespace testing_support;

const std::string kNode = std::string(KCM_FIXTURES_DIR) + "/audit/node";

void add_list(Pool& pool, const std::string& name, std::vector<pid_t> tasks) {
  pool.lists.emplace(name, CpuList{name, CpuSet::parse(name), std::move(tasks)});
}

// dataplane exclusive: 4 held by 100, 5 by 150, 6-7 free; infra shared: 0-3.
Config node_config() {
  Config config;
  Pool dp{"dataplane", true, {}};
  add_list(dp, "4", {100});
  add_list(dp, "5", {150});
  add_list(dp, "6-7", {});
  Pool infra{"infra", false, {}};
  add_list(infra, "0-3", {1});
  config.pools.emplace("dataplane", dp);
  config.pools.emplace("infra", infra);
  return config;
}

std::vector<ProcessInfo> node_processes() { return scan_processes(Procfs(kNode + "/proc")); }

// --- the parsers (each also a fuzz target, fuzz/README.md) ------------------------------

// The message of the Error `f` throws ("(no error)" when none).
template <typename F>
std::string error_of(F&& f) {
  return thrown_by(std::forward<F>(f)).message;
}

TEST(ParseStatFieldsTest, ReadsCommandStateAndFlagsPastAHostileCommand) {
  const StatFields f = parse_stat_fields(
      "12 (ksoftirqd/0) S 2 0 0 0 -1 69238848 0 0 0 0 0 1 0 0 20 0 1 0 9\n", "stat");
  EXPECT_EQ(f.comm, "ksoftirqd/0");
  EXPECT_EQ(f.state, 'S');
  EXPECT_NE(f.flags & kPfKthread, 0u);
  const StatFields hostile =
      parse_stat_fields("4242 (x) R 1 2 3 4 5 2097152 (y) S 1 4242 4242 0 -1 4194304\n", "stat");
  EXPECT_EQ(hostile.comm, "x) R 1 2 3 4 5 2097152 (y");
  EXPECT_EQ(hostile.state, 'S');
  EXPECT_EQ(hostile.flags & kPfKthread, 0u);
}

TEST(ParseStatFieldsTest, MalformedTextThrowsNamingTheFile) {
  EXPECT_EQ(error_of([] { parse_stat_fields("4242 x S", "/proc/4242/stat"); }),
            "parse \"/proc/4242/stat\": no command name in parentheses");
  EXPECT_EQ(error_of([] { parse_stat_fields("4242 (x) S 1 2 3 4 5\n", "/proc/4242/stat"); }),
            "parse \"/proc/4242/stat\": fewer than 9 fields");
  EXPECT_EQ(error_of([] { parse_stat_fields("4242 (x) S 1 2 3 4 5 -1\n", "/proc/4242/stat"); }),
            "parse \"/proc/4242/stat\": field 9 (flags) is not a number");
}

TEST(ParseCpusAllowedTest, TheKeyCountsOnlyWhereItStartsALine) {
  EXPECT_EQ(parse_cpus_allowed("Cpus_allowed_list:\t0-3\n", "status"), CpuSet::parse("0-3"));
  EXPECT_EQ(parse_cpus_allowed("Name:\tx Cpus_allowed_list:\t9\nCpus_allowed:\t10\n"
                               "Cpus_allowed_list:\t4\nMems_allowed_list:\t0\n",
                               "status"),
            CpuSet::parse("4"));
  EXPECT_EQ(error_of([] { parse_cpus_allowed("Name:\tCpus_allowed_list: 1\n", "/proc/1/status"); }),
            "parse \"/proc/1/status\": no Cpus_allowed_list line");
  EXPECT_THAT(error_of([] { parse_cpus_allowed("Cpus_allowed_list:\tx\n", "/proc/1/status"); }),
              HasSubstr("parse \"/proc/1/status\""));
}

TEST(ParseCpuListFileTest, ReadsTheFirstLineAndNamesTheFile) {
  EXPECT_EQ(parse_cpu_list_file("0-3,8\n4-7\n", "f"), CpuSet::parse("0-3,8"));
  EXPECT_EQ(parse_cpu_list_file("5", "f"), CpuSet::parse("5"));
  EXPECT_TRUE(parse_cpu_list_file("\n", "f").empty());
  EXPECT_THAT(error_of([] { parse_cpu_list_file("ff\n", "/proc/irq/24/smp_affinity_list"); }),
              HasSubstr("parse \"/proc/irq/24/smp_affinity_list\""));
}

TEST(ParseInterruptsTest, NamesAreTheWordsAfterTheCounts) {
  const auto names = parse_interrupts(
      "           CPU0       CPU1       \n"
      "  0:         45          0   IO-APIC   2-edge      timer\n"
      " 30:          0          0  PCI-MSI 512000-edge      eth0\n"
      " 40:          7          0  PCI-MSI 1-edge      1234\n"
      " 41:          7\n"
      "NMI:          0          0   Non-maskable interrupts\n"
      "ERR:          0\n");
  EXPECT_EQ(names, (std::map<long, std::string>{{0, "IO-APIC 2-edge timer"},
                                                {30, "PCI-MSI 512000-edge eth0"},
                                                {40, "PCI-MSI 1-edge 1234"},
                                                {41, ""}}));
  EXPECT_TRUE(parse_interrupts("").empty());
}

TEST(ParseKubeletStateTest, ReadsTheStaticPolicysAssignmentsOnly) {
  const KubeletState state = parse_kubelet_state(
      R"({"policyName":"static","defaultCpuSet":"0,3","entries":{"p1":{"app":"1-2","side":""}}})",
      "state");
  EXPECT_EQ(state.policy, "static");
  ASSERT_EQ(state.assignments.size(), 2u);
  EXPECT_EQ(state.assignments[0].pod, "p1");
  EXPECT_EQ(state.assignments[0].container, "app");
  EXPECT_EQ(state.assignments[0].cpus, CpuSet::parse("1-2"));
  EXPECT_TRUE(state.assignments[1].cpus.empty());
  // Another policy's entries are not read, however malformed.
  const KubeletState none = parse_kubelet_state(R"({"policyName":"none","entries":3})", "state");
  EXPECT_EQ(none.policy, "none");
  EXPECT_TRUE(none.assignments.empty());
  EXPECT_TRUE(parse_kubelet_state(R"({"policyName":7})", "state").policy.empty());
  EXPECT_EQ(error_of([] { parse_kubelet_state(R"({"policyName":"static","entries":[]})", "s"); }),
            "parse \"s\": \"entries\" is not an object");
}

// --- the scan ---------------------------------------------------------------------------

TEST(CpusetCgroupPathTest, PrefersTheV1CpusetHierarchy) {
  EXPECT_EQ(cpuset_cgroup_path("12:cpu,cpuacct:/a\n5:cpuset:/docker/x\n0::/init.scope\n"),
            "/docker/x");
  EXPECT_EQ(cpuset_cgroup_path("3:cpuset,cpu:/k\n"), "/k");
  EXPECT_EQ(cpuset_cgroup_path("0::/kubepods.slice/pod1\n"), "/kubepods.slice/pod1");
  EXPECT_EQ(cpuset_cgroup_path("1:name=systemd:/u\n"), "");
  EXPECT_EQ(cpuset_cgroup_path(""), "");
}

TEST(ScanProcessesTest, ReadsThreadsCgroupsAndKernelThreadsAndSkipsZombies) {
  const auto processes = node_processes();
  std::vector<pid_t> pids;
  for (const auto& p : processes) pids.push_back(p.pid);
  EXPECT_THAT(pids, ElementsAre(1, 2, 12, 100, 101, 150, 200, 300, 500));  // 400 is a zombie
  const ProcessInfo& kthread = processes[1];
  EXPECT_TRUE(kthread.kernel_thread);
  EXPECT_TRUE(kthread.threads.empty());
  EXPECT_TRUE(processes[2].kernel_thread);
  const ProcessInfo& java = processes[6];
  EXPECT_FALSE(java.kernel_thread);
  EXPECT_EQ(java.comm, "java");
  EXPECT_EQ(java.cgroup, "/user.slice/session-1.scope");
  ASSERT_EQ(java.threads.size(), 3u);
  EXPECT_EQ(java.threads[1].tid, 201);
  EXPECT_EQ(java.threads[1].allowed, (CpuSet{4, 5}));
  EXPECT_EQ(processes[5].comm, "noisy (x)");  // parentheses in the command
  const ProcessInfo& lonely = processes[8];   // no task/, no cgroup file
  EXPECT_EQ(lonely.cgroup, "");
  ASSERT_EQ(lonely.threads.size(), 1u);
  EXPECT_EQ(lonely.threads[0].allowed, CpuSet{5});
}

TEST(ScanProcessesTest, AnUnlistableRootThrowsNamingIt) {
  try {
    scan_processes(Procfs("/nonexistent/proc"));
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("/nonexistent/proc"));
  }
}

// A process the scan may not read (EACCES under an LSM, or a malformed file) is kept with
// why; one that vanished (no stat) is skipped.
TEST(ScanProcessesTest, KeepsUnreadableProcessesWithWhyAndSkipsVanishedOnes) {
  FakeProcfs procfs;
  procfs.add_process(10, 1, "0-7");
  procfs.add_process(11, 1, "0-7");
  write_file(procfs.root() + "/11/stat", "11 no parentheses\n");
  write_file(procfs.root() + "/12/cgroup", "0::/gone\n");  // ended: no stat
  const auto processes = scan_processes(Procfs(procfs.root()));
  ASSERT_EQ(processes.size(), 2u);
  EXPECT_EQ(processes[0].pid, 10);
  EXPECT_EQ(processes[0].unreadable, "");
  EXPECT_EQ(processes[1].pid, 11);
  EXPECT_THAT(processes[1].unreadable, HasSubstr(procfs.root() + "/11/stat"));
  EXPECT_TRUE(processes[1].threads.empty());
}

// node-report in a pod with a private cgroup namespace (cgroup v2) reads the host's
// cgroups as /../../../<path>: the "/.." of init's path (init is at the top) go.
TEST(ScanProcessesTest, StripsThePrefixOfAPrivateCgroupNamespace) {
  FakeProcfs procfs;
  const std::map<pid_t, std::string> cgroups = {
      {1, "/../../../init.scope"},
      {5, "/../../../system.slice/docker-0a1b.scope"},
      {6, "/"},                               // the namespace's own root
      {7, "/../kubepods-pod2.slice/cri-c2"},  // shares an ancestor: left as it is
      {8, "/../../.."},                       // the host's root
      {9, "/../../../..x/y"}};
  for (const auto& [pid, cgroup] : cgroups) {
    procfs.add_process(pid, 1, "0-7");
    write_file(procfs.root() + "/" + std::to_string(pid) + "/cgroup", "0::" + cgroup + "\n");
  }
  std::vector<std::string> seen;
  for (const auto& p : scan_processes(Procfs(procfs.root()))) seen.push_back(p.cgroup);
  EXPECT_THAT(seen, ElementsAre("/init.scope", "/system.slice/docker-0a1b.scope", "/",
                                "/../kubepods-pod2.slice/cri-c2", "/", "/..x/y"));
}

ProcessInfo unreadable_process(pid_t pid) {
  ProcessInfo p;
  p.pid = pid;
  p.unreadable = "open \"/proc/" + std::to_string(pid) + "/status\": Permission denied";
  return p;
}

// --- exclusiveCpus ----------------------------------------------------------------------

TEST(AuditExclusiveCpusTest, NamesEveryThreadOutsideTheHoldersByPidCommandAndCgroup) {
  const AuditCheck check = audit_exclusive_cpus(node_config(), node_processes(), 0);
  EXPECT_THAT(
      check.errors,
      ElementsAre(
          // one error per process, naming every list it may run on
          "Process 1 (systemd, cgroup /init.scope) may run on CPUs 4,5 of the exclusive lists "
          "dataplane:4 held by 100; dataplane:5 held by 150 (allowed CPUs 0-7)",
          // the child of 100's container is not 150's
          "Process 101 (app worker, cgroup /kcm.slice/c1/sub) may run on CPUs 5 of the "
          "exclusive list dataplane:5 held by 150 (allowed CPUs 0-7)",
          // /kcm.slice/c10 is not beneath /kcm.slice/c1
          "Process 150 (noisy (x), cgroup /kcm.slice/c10) may run on CPUs 4 of the exclusive "
          "list dataplane:4 held by 100 (allowed CPUs 0-7)",
          "Process 200 (java, cgroup /user.slice/session-1.scope), threads 201, 202, may run "
          "on CPUs 4,5 of the exclusive lists dataplane:4 held by 100; dataplane:5 held by 150 "
          "(allowed CPUs 0-7)",
          "Process 500 (lonely, cgroup unknown) may run on CPUs 5 of the exclusive list "
          "dataplane:5 held by 150 (allowed CPUs 5)"));
  EXPECT_EQ(check.violations, 5u);
}

// Without isolcpus= every process of a node may run on every list: the errors stop at
// kAuditErrorLimit (the report is published whole), the violations count them all.
TEST(AuditExclusiveCpusTest, ErrorsStopAtTheLimitAndViolationsCountThemAll) {
  std::vector<ProcessInfo> processes;
  for (pid_t pid = 1000; pid < 1250; ++pid) {
    ProcessInfo p;
    p.pid = pid;
    p.comm = "daemon";
    p.cgroup = "/system.slice/d.service";
    p.threads.push_back({pid, CpuSet{0, 4, 5}});
    processes.push_back(std::move(p));
  }
  const AuditCheck check = audit_exclusive_cpus(node_config(), processes, 0);
  EXPECT_EQ(check.violations, 250u);
  ASSERT_EQ(check.errors.size(), kAuditErrorLimit + 1);
  EXPECT_THAT(check.errors[0], HasSubstr("Process 1000 (daemon"));
  EXPECT_EQ(check.errors.back(), "... and 150 more");
}

// "ok" having judged nothing would be a false all-clear: an unreadable holder (whose
// cgroup decides who is its own) or mostly unreadable processes leave the check out.
TEST(AuditExclusiveCpusTest, AnUnreadableHolderOrMostlyUnreadableProcessesThrow) {
  std::vector<ProcessInfo> processes = node_processes();
  processes.push_back(unreadable_process(600));
  // One unreadable process that holds nothing: judged on the others.
  EXPECT_EQ(audit_exclusive_cpus(node_config(), processes, 0).violations, 5u);
  Config config = node_config();
  config.pools.at("dataplane").lists.at("6-7").tasks = {600};
  try {
    audit_exclusive_cpus(config, processes, 0);
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("holder 600 of dataplane:6-7 could not be read: open "
                                    "\"/proc/600/status\": Permission denied"));
  }
  std::vector<ProcessInfo> mostly = node_processes();  // 9
  for (pid_t pid = 601; pid < 611; ++pid) mostly.push_back(unreadable_process(pid));
  try {
    audit_exclusive_cpus(node_config(), mostly, 0);
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("10 of 19 processes could not be read, the first: open "
                                    "\"/proc/601/status\""));
  }
}

TEST(AuditExclusiveCpusTest, LeavesOutTheAuditorAndFreeAndSharedLists) {
  Config config = node_config();
  config.pools.at("dataplane").lists.erase("5");
  const AuditCheck check = audit_exclusive_cpus(config, node_processes(), /*self=*/1);
  EXPECT_EQ(check.violations, 2u);  // 150 and 200 on 4; 6-7 is free, infra is shared
  for (const auto& e : check.errors) EXPECT_THAT(e, testing::Not(HasSubstr("Process 1 ")));
}

TEST(AuditExclusiveCpusTest, TheRootCgroupMakesNobodyAHoldersOwn) {
  Config config;
  Pool dp{"dataplane", true, {}};
  add_list(dp, "4", {2});  // a holder in "/" (a kernel thread's cgroup, here)
  config.pools.emplace("dataplane", dp);
  const AuditCheck check = audit_exclusive_cpus(config, node_processes(), 0);
  EXPECT_EQ(check.violations, 5u);  // 1, 100, 101, 150, 200
}

TEST(AuditExclusiveCpusTest, NamesThatAreNotUtf8ReachTheReportEscaped) {
  // prctl(PR_SET_NAME) takes any bytes; the report's JSON writer refuses those that are
  // not UTF-8, which once failed the whole node-report.
  Config config;
  Pool dp{"dataplane", true, {}};
  add_list(dp, "4", {100});
  config.pools.emplace("dataplane", dp);
  ProcessInfo p;
  p.pid = 4242;
  p.comm = "caf\xc3\xa9 \xff\xc0\xaf\xed\xa0\x80\xe2\x82";  // é, then invalid bytes
  p.cgroup = "/a\x80";
  p.threads.push_back({4242, CpuSet::parse("0-7")});
  const AuditCheck check = audit_exclusive_cpus(config, {p}, 0);
  ASSERT_EQ(check.errors.size(), 1u);
  EXPECT_EQ(check.errors[0],
            "Process 4242 (caf\xc3\xa9 \\xff\\xc0\\xaf\\xed\\xa0\\x80\\xe2\\x82, cgroup /a\\x80) "
            "may run on CPUs 4 of the exclusive list dataplane:4 held by 100 (allowed CPUs 0-7)");
  NodeReport report;
  report.exclusive_cpus = check;
  EXPECT_NO_THROW(to_document(node_report_json(report)));
}

// --- irqs -------------------------------------------------------------------------------

TEST(AuditIrqsTest, NamesIrqsWithHandlersOnExclusiveCpusAndHintsAtIrqbalance) {
  const auto check = audit_irqs(node_config(), Procfs(kNode + "/proc"), node_processes());
  ASSERT_TRUE(check);
  EXPECT_THAT(
      check->errors,
      ElementsAre("IRQ 24 (PCI-MSI 512000-edge eth0) may be delivered to exclusive CPUs 4-7 "
                  "(dataplane:4, dataplane:5, dataplane:6-7): its smp_affinity_list is 0-7; "
                  "echo 0-3 > /proc/irq/24/smp_affinity_list",
                  "IRQ 27 (PCI-MSI 1048576-edge nvme0q1) may be delivered to exclusive CPUs 4,5 "
                  "(dataplane:4, dataplane:5): its smp_affinity_list is 4,5; it allows no CPU "
                  "outside the exclusive lists; if it is a device's per-CPU queue, boot with "
                  "isolcpus=managed_irq,4-7",
                  "irqbalance (pid 300) is running and moves IRQs back onto any CPU it is not told "
                  "to avoid: set IRQBALANCE_BANNED_CPULIST=4-7 in its environment file and restart "
                  "it"));
  EXPECT_EQ(check->violations, 2u);
}

TEST(AuditIrqsTest, NoIrqDirectoryMeansNoCheck) {
  TempDir tmp;
  EXPECT_FALSE(audit_irqs(node_config(), Procfs(tmp.path()), {}));
}

TEST(AuditIrqsTest, NoExclusiveCpusNoFindingsNoHint) {
  Config config;
  Pool infra{"infra", false, {}};
  add_list(infra, "0-7", {});
  config.pools.emplace("infra", infra);
  const auto check = audit_irqs(config, Procfs(kNode + "/proc"), node_processes());
  ASSERT_TRUE(check);
  EXPECT_TRUE(check->errors.empty());
}

// --- kubelet ----------------------------------------------------------------------------

TEST(AuditKubeletTest, StaticAssignmentsOverlappingKcmListsAreNamed) {
  const std::string state = kNode + "/kubelet/cpu_manager_state";
  const AuditCheck check = audit_kubelet(node_config(), state);
  ASSERT_EQ(check.errors.size(), 4u);
  EXPECT_EQ(check.errors[1],
            "The kubelet's static CPU manager (" + state +
                ") assigns CPUs 5,6 to container \"app\" of pod "
                "6f1c2d3e-aaaa-bbbb-cccc-000000000001: CPUs 5 are in kcm's list dataplane:5 "
                "(use --cpu-manager-policy=none)");
  EXPECT_THAT(check.errors[2], HasSubstr("CPUs 6 are in kcm's list dataplane:6-7"));
  EXPECT_THAT(check.errors[3], HasSubstr("container \"db\""));
  EXPECT_EQ(check.violations, 4u);
}

// The static policy writes every other container's cpuset, kcm's holders' too, to its
// defaultCpuSet: a finding with no exclusive assignment at all.
TEST(AuditKubeletTest, TheStaticPolicyItselfIsNamedWithItsDefaultCpuSet) {
  const std::string state = kNode + "/kubelet/cpu_manager_state";
  EXPECT_EQ(audit_kubelet(node_config(), state).errors[0],
            "The kubelet's static CPU manager (" + state +
                ") sets the cpuset of every container without an exclusive assignment, kcm's "
                "holders too, to its defaultCpuSet 0-3,6,7 (exclusive CPUs 6,7: "
                "dataplane:6-7), undoing kcm's pinning (use --cpu-manager-policy=none)");
  TempDir tmp;
  const std::string path = tmp / "state";
  for (const char* text : {R"({"policyName":"static","defaultCpuSet":"0-3","checksum":1})",
                           R"({"policyName":"static","defaultCpuSet":"0-3","entries":{}})"}) {
    write_file(path, text);
    const AuditCheck check = audit_kubelet(node_config(), path);
    EXPECT_THAT(check.errors,
                ElementsAre("The kubelet's static CPU manager (" + path +
                            ") sets the cpuset of every container without an exclusive "
                            "assignment, kcm's holders too, to its defaultCpuSet 0-3, undoing "
                            "kcm's pinning (use --cpu-manager-policy=none)"))
        << text;
    EXPECT_EQ(check.violations, 1u);
  }
  write_file(path, R"({"policyName":"static","defaultCpuSet":""})");
  EXPECT_THAT(audit_kubelet(node_config(), path).errors[0], HasSubstr("defaultCpuSet (empty),"));
}

TEST(AuditKubeletTest, NonePolicyAndAbsentFileAreQuiet) {
  EXPECT_TRUE(audit_kubelet(node_config(), kNode + "/kubelet/none_state").errors.empty());
  EXPECT_TRUE(audit_kubelet(node_config(), kNode + "/kubelet/absent").errors.empty());
}

TEST(AuditKubeletTest, MalformedStateThrowsNamingTheFile) {
  TempDir tmp;
  const std::string path = tmp / "state";
  for (const char* text : {"{", "[]", R"({"policyName":"static","entries":{"p":{"c":"x"}}})",
                           R"({"policyName":"static","entries":{"p":3}})",
                           R"({"policyName":"static","defaultCpuSet":5})"}) {
    write_file(path, text);
    try {
      audit_kubelet(node_config(), path);
      FAIL() << text;
    } catch (const Error& e) {
      EXPECT_THAT(e.what(), HasSubstr(path)) << text;
    }
  }
}

// --- hostSlices -------------------------------------------------------------------------

TEST(AuditHostSlicesTest, SlicesOnExclusiveCpusGetTheirSystemctlCommand) {
  const auto check = audit_host_slices(node_config(), kNode + "/sys/fs/cgroup", node_processes());
  ASSERT_TRUE(check);
  EXPECT_THAT(check->errors,
              ElementsAre("system.slice may run on exclusive CPUs 6 (dataplane:6-7): its "
                          "cpuset.cpus.effective is 0-3,6; systemctl set-property system.slice "
                          "AllowedCPUs=0-3",
                          "init.scope may run on exclusive CPUs 4-7 (dataplane:4, dataplane:5, "
                          "dataplane:6-7): its cpuset.cpus.effective is 0-7; systemctl "
                          "set-property init.scope AllowedCPUs=0-3"));
  EXPECT_EQ(check->violations, 2u);
}

// With Docker's systemd driver a pinned container lives in system.slice/docker-<id>.scope,
// and on v2 its cpuset is within system.slice's: those CPUs are the slice's to keep.
TEST(AuditHostSlicesTest, TheCpusOfHoldersInsideASliceAreLeftToIt) {
  TempDir tmp;
  write_file(tmp / "cgroup.controllers", "cpuset cpu\n");
  write_file(tmp / "cpuset.cpus.effective", "0-7\n");
  write_file(tmp / "system.slice/cpuset.cpus.effective", "0-7\n");
  write_file(tmp / "init.scope/cgroup.procs", "1\n");
  std::vector<ProcessInfo> processes = node_processes();
  ProcessInfo docker;
  docker.pid = 700;
  docker.comm = "dpdk";
  docker.cgroup = "/system.slice/docker-0a1b.scope";
  docker.threads.push_back({700, CpuSet::parse("6-7")});
  processes.push_back(docker);
  Config config = node_config();
  config.pools.at("dataplane").lists.at("6-7").tasks = {700};
  const auto check = audit_host_slices(config, tmp.path(), processes);
  ASSERT_TRUE(check);
  EXPECT_THAT(check->errors,
              ElementsAre("system.slice may run on exclusive CPUs 4,5 (dataplane:4, dataplane:5): "
                          "its cpuset.cpus.effective is 0-7; systemctl set-property system.slice "
                          "AllowedCPUs=0-3,6,7 (keeping CPUs 6,7 of the kcm holders inside it: "
                          "dataplane:6-7)",
                          "init.scope may run on exclusive CPUs 4-7 (dataplane:4, dataplane:5, "
                          "dataplane:6-7): its cpuset.cpus.effective is 0-7; systemctl "
                          "set-property init.scope AllowedCPUs=0-3"));
  // The fixture's system.slice (0-3,6): nothing left to take from it.
  const auto fixture = audit_host_slices(config, kNode + "/sys/fs/cgroup", processes);
  ASSERT_TRUE(fixture);
  EXPECT_THAT(fixture->errors, ElementsAre(HasSubstr("init.scope may run")));
  // A holder it cannot read might be inside: no command that could take its CPUs.
  processes.back().unreadable = "open \"/proc/700/status\": Permission denied";
  EXPECT_THROW(audit_host_slices(config, tmp.path(), processes), Error);
}

TEST(AuditHostSlicesTest, NotCgroupV2WithCpusetMeansNoCheck) {
  TempDir tmp;
  EXPECT_FALSE(audit_host_slices(node_config(), tmp.path(), {}));
  write_file(tmp / "cgroup.controllers", "cpu memory\n");
  EXPECT_FALSE(audit_host_slices(node_config(), tmp.path(), {}));
}

}  // namespace
}  // namespace kcm
