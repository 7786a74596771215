#include "procfs.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <future>
#include <thread>

#include "affinity.h"
#include "error.h"
#include "fs.h"
#include "test_support.h"

namespace kcm {
namespace {

using testing::Contains;
using testing::UnorderedElementsAre;
using testing_support::FakeProcfs;
using testing_support::stat_line;
using testing_support::thrown_by;
using testing_support::write_file;

// --- parse_proc_stat -------------------------------------------------------------------

TEST(ParseProcStatTest, ReadsPidStateAndStartTime) {
  ProcStat st = parse_proc_stat(stat_line(2000, "sleep", 'S', 987654321), "f");
  EXPECT_EQ(st.pid, 2000);
  EXPECT_EQ(st.state, 'S');
  EXPECT_EQ(st.start_time, 987654321u);
}

TEST(ParseProcStatTest, CommandNameWithSpacesAndClosingParenthesis) {
  ProcStat st = parse_proc_stat(stat_line(77, "a) b", 'R', 4242), "f");
  EXPECT_EQ(st.pid, 77);
  EXPECT_EQ(st.state, 'R');
  EXPECT_EQ(st.start_time, 4242u);
}

TEST(ParseProcStatTest, CommandNameThatLooksLikeFields) {
  ProcStat st = parse_proc_stat(
      stat_line(78, ") Z 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19", 'S', 55), "f");
  EXPECT_EQ(st.state, 'S');
  EXPECT_EQ(st.start_time, 55u);
}

TEST(ParseProcStatTest, CommandNameWithOpeningParentheses) {
  ProcStat st = parse_proc_stat(stat_line(79, "((x)) (y", 'D', 12), "f");
  EXPECT_EQ(st.pid, 79);
  EXPECT_EQ(st.state, 'D');
  EXPECT_EQ(st.start_time, 12u);
}

TEST(ParseProcStatTest, StartTimeAtTheEndOfTheText) {
  const std::string text = "5 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 777";
  EXPECT_EQ(parse_proc_stat(text, "f").start_time, 777u);
}

TEST(ParseProcStatTest, NoParenthesesIsRefused) {
  EXPECT_EQ(thrown_by([] { parse_proc_stat("garbage", "/proc/7/stat"); }).message,
            "parse \"/proc/7/stat\": no command name in parentheses");
  EXPECT_EQ(thrown_by([] { parse_proc_stat("", "f"); }).message,
            "parse \"f\": no command name in parentheses");
}

TEST(ParseProcStatTest, NonNumericPidIsRefused) {
  // The PID's digit overwritten in place: replace(0, 1, "x") trips GCC 12's -Wrestrict
  // false positive at -O3 (GCC bug 105329), which fails a -Werror release build.
  std::string line = stat_line(1, "x", 'S', 1);
  line[0] = 'x';
  EXPECT_EQ(thrown_by([&] { parse_proc_stat(line, "f"); }).message,
            "parse \"f\": first field is not a PID");
}

TEST(ParseProcStatTest, TooFewFieldsIsRefused) {
  EXPECT_EQ(thrown_by([] { parse_proc_stat("5 (x) S 1 1 1", "f"); }).message,
            "parse \"f\": fewer than 22 fields");
}

TEST(ParseProcStatTest, NonNumericStartTimeIsRefused) {
  const std::string text = "5 (x) S 1 1 1 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 soon 1";
  EXPECT_EQ(thrown_by([&] { parse_proc_stat(text, "f"); }).message,
            "parse \"f\": field 22 (starttime) is not a number");
}

// --- a fake procfs ---------------------------------------------------------------------

TEST(ProcfsTest, SelfPidIsFirstFieldOfSelfStat) {
  FakeProcfs proc;
  proc.set_self(31337);
  EXPECT_EQ(Procfs(proc.root()).self_pid(), 31337);
}

TEST(ProcfsTest, SelfPidWithoutSelfStatNamesTheFile) {
  FakeProcfs proc;
  EXPECT_EQ(thrown_by([&] { Procfs(proc.root()).self_pid(); }).message,
            "open \"" + proc.root() + "/self/stat\": No such file or directory");
}

TEST(ProcfsTest, StartTimeIsField22) {
  FakeProcfs proc;
  proc.add_process(2000, 123456789, "4,12");
  EXPECT_EQ(Procfs(proc.root()).start_time(2000), 123456789u);
  EXPECT_EQ(Procfs(proc.root()).status(2000).liveness, Procfs::Liveness::kAlive);
  EXPECT_EQ(Procfs(proc.root()).status(2000).start_time, 123456789u);
}

TEST(ProcfsTest, StartTimeOfMissingPidIsNullopt) {
  FakeProcfs proc;
  EXPECT_EQ(Procfs(proc.root()).status(2000).liveness, Procfs::Liveness::kGone);
}

TEST(ProcfsTest, ZombieIsGone) {
  FakeProcfs proc;
  proc.add_process(2000, 5, "4,12", 'Z');
  EXPECT_EQ(Procfs(proc.root()).start_time(2000), std::nullopt);
  EXPECT_EQ(Procfs(proc.root()).status(2000).liveness, Procfs::Liveness::kGone);
}

// The original kcm's own fixtures hold PIDs with only a status file: such a process may
// well run, so nobody may take its CPUs.
TEST(ProcfsTest, DirectoryWithoutStatIsUnknown) {
  FakeProcfs proc;
  write_file(proc.root() + "/1/status", "Name:\tinit\nCpus_allowed_list:\t0-3\n");
  EXPECT_EQ(Procfs(proc.root()).status(1).liveness, Procfs::Liveness::kUnknown);
  EXPECT_EQ(Procfs(proc.root()).start_time(1), std::nullopt);
}

// On a real procfs a missing stat is the answer (no stat of the directory): a reaped
// child is gone, a live one (this process) alive, and a copy of the object asks nothing new.
TEST(ProcfsTest, ReapedChildOnTheRealProcfsIsGone) {
  const pid_t child = ::fork();
  ASSERT_GE(child, 0);
  if (child == 0) ::_exit(0);
  ASSERT_EQ(::waitpid(child, nullptr, 0), child);
  const Procfs procfs;
  EXPECT_EQ(procfs.status(child).liveness, Procfs::Liveness::kGone);
  const Procfs copy = procfs;
  EXPECT_EQ(copy.status(child).liveness, Procfs::Liveness::kGone);
  EXPECT_EQ(copy.status(::getpid()).liveness, Procfs::Liveness::kAlive);
}

TEST(ProcfsTest, MalformedStatIsUnknown) {
  FakeProcfs proc;
  write_file(proc.root() + "/7/stat", "7 (x) S 1\n");
  EXPECT_EQ(Procfs(proc.root()).status(7).liveness, Procfs::Liveness::kUnknown);
}

TEST(ProcfsTest, UnreadableStatIsUnknown) {
  if (::geteuid() == 0) GTEST_SKIP() << "root reads a file whatever its mode";
  FakeProcfs proc;
  proc.add_process(8, 5, "0");
  ASSERT_EQ(::chmod((proc.root() + "/8/stat").c_str(), 0), 0);
  EXPECT_EQ(Procfs(proc.root()).status(8).liveness, Procfs::Liveness::kUnknown);
}

TEST(HolderGoneTest, GoneOrAnotherStartTimeOnly) {
  using L = Procfs::Liveness;
  EXPECT_TRUE(holder_gone({L::kGone, 0}, 5));
  EXPECT_TRUE(holder_gone({L::kAlive, 6}, 5));
  EXPECT_FALSE(holder_gone({L::kAlive, 5}, 5));
  EXPECT_FALSE(holder_gone({L::kUnknown, 0}, 5));
}

TEST(ProcfsTest, DeadTaskStateXIsNotAlive) {
  FakeProcfs proc;
  proc.add_process(2000, 5, "4,12", 'X');
  EXPECT_EQ(Procfs(proc.root()).start_time(2000), std::nullopt);
}

TEST(ProcfsTest, NonPositivePidIsNotAlive) {
  FakeProcfs proc;
  proc.set_self(1);
  EXPECT_EQ(Procfs(proc.root()).start_time(0), std::nullopt);
  EXPECT_EQ(Procfs(proc.root()).start_time(-1), std::nullopt);
}

TEST(ProcfsTest, StartTimeOfProcessWithOddNameIsRead) {
  FakeProcfs proc;
  proc.add_process(2001, 42, "5,13", 'S', "my (weird) ) name");
  EXPECT_EQ(Procfs(proc.root()).start_time(2001), 42u);
}

TEST(ProcfsTest, MalformedStatNamesTheFile) {
  FakeProcfs proc;
  write_file(proc.root() + "/2000/stat", "2000 (x) S 1");
  EXPECT_EQ(thrown_by([&] { Procfs(proc.root()).start_time(2000); }).message,
            "parse \"" + proc.root() + "/2000/stat\": fewer than 22 fields");
}

TEST(ProcfsTest, CpusAllowedFromStatus) {
  FakeProcfs proc;
  proc.add_process(2000, 1, "4,12");
  proc.add_process(3000, 1, "0-2,8-10");
  EXPECT_EQ(Procfs(proc.root()).cpus_allowed(2000), (CpuSet{4, 12}));
  EXPECT_EQ(Procfs(proc.root()).cpus_allowed(3000), (CpuSet{0, 1, 2, 8, 9, 10}));
}

TEST(ProcfsTest, CpusAllowedOfMissingPidIsNullopt) {
  FakeProcfs proc;
  EXPECT_EQ(Procfs(proc.root()).cpus_allowed(2000), std::nullopt);
}

TEST(ProcfsTest, StatusWithoutCpusAllowedListNamesTheFile) {
  FakeProcfs proc;
  write_file(proc.root() + "/2000/status", "Name:\tx\nCpus_allowed:\tff\n");
  EXPECT_EQ(thrown_by([&] { Procfs(proc.root()).cpus_allowed(2000); }).message,
            "parse \"" + proc.root() + "/2000/status\": no Cpus_allowed_list line");
}

TEST(ProcfsTest, GarbageCpusAllowedListNamesTheFile) {
  FakeProcfs proc;
  proc.add_process(2000, 1, "4-x");
  EXPECT_THAT(thrown_by([&] { Procfs(proc.root()).cpus_allowed(2000); }).message,
              testing::StartsWith("parse \"" + proc.root() + "/2000/status\": "));
}

TEST(ProcfsTest, ThreadsListsNumericTaskEntries) {
  FakeProcfs proc;
  proc.add_process(2000, 1, "4,12");
  write_file(proc.root() + "/2000/task/2000/stat", "");
  write_file(proc.root() + "/2000/task/2003/stat", "");
  write_file(proc.root() + "/2000/task/notes", "");
  EXPECT_THAT(Procfs(proc.root()).threads(2000), UnorderedElementsAre(2000, 2003));
}

TEST(ProcfsTest, ThreadsOfMissingPidIsEmpty) {
  FakeProcfs proc;
  EXPECT_TRUE(Procfs(proc.root()).threads(2000).empty());
}

TEST(ProcfsTest, PathOfPidAndSelf) {
  Procfs proc("/host/proc");
  EXPECT_EQ(proc.root(), "/host/proc");
  EXPECT_EQ(proc.path(2000, "stat"), "/host/proc/2000/stat");
  EXPECT_EQ(proc.path(0, "status"), "/host/proc/self/status");
  EXPECT_EQ(proc.path(2000, ""), "/host/proc/2000");
  EXPECT_EQ(Procfs().root(), "/proc");
}

// --- the real /proc/self ---------------------------------------------------------------

TEST(RealProcfsTest, SelfPidIsGetpid) { EXPECT_EQ(Procfs("/proc").self_pid(), ::getpid()); }

TEST(RealProcfsTest, SelfStartTimeMatchesItsStatFile) {
  const std::string text = read_file("/proc/self/stat");
  const ProcStat st = parse_proc_stat(text, "/proc/self/stat");
  EXPECT_EQ(st.pid, ::getpid());
  EXPECT_EQ(st.state, 'R');
  EXPECT_GT(st.start_time, 0u);
}

TEST(RealProcfsTest, SelfCpusAllowedMatchesAffinity) {
  EXPECT_EQ(Procfs("/proc").cpus_allowed(0), testing_support::affinity_of(0));
}

TEST(RealProcfsTest, ThreadsOfSelfIncludeEveryThread) {
  std::promise<pid_t> tid;
  std::promise<void> done;
  std::thread other([&] {
    tid.set_value(static_cast<pid_t>(::syscall(SYS_gettid)));
    done.get_future().wait();
  });
  const pid_t other_tid = tid.get_future().get();
  const std::vector<pid_t> threads = Procfs("/proc").threads(0);
  done.set_value();
  other.join();
  EXPECT_THAT(threads, Contains(::getpid()));
  EXPECT_THAT(threads, Contains(other_tid));
}

}  // namespace
}  // namespace kcm
