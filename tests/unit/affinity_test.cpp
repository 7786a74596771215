#include "affinity.h"

#include <gtest/gtest.h>
#include <sched.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <future>
#include <thread>

#include "error.h"
#include "test_support.h"

namespace kcm {
namespace {

using testing_support::affinity_of;
using testing_support::thrown_by;

// No process has this id: it is above the kernel's PID_MAX_LIMIT (4194304).
constexpr pid_t kNoSuchThread = 99999999;

// Runs `body` on a fresh thread, so pinning it never changes the test process.
template <typename F>
void on_scratch_thread(F&& body) {
  std::thread t(std::forward<F>(body));
  t.join();
}

pid_t current_tid() { return static_cast<pid_t>(::syscall(SYS_gettid)); }

TEST(AffinityTest, SetAffinityPinsTheCallingThread) {
  const CpuSet allowed = affinity_of(0);
  const CpuSet one{allowed.last()};
  on_scratch_thread([&] {
    set_affinity(0, one);
    EXPECT_EQ(affinity_of(0), one);
  });
  EXPECT_EQ(affinity_of(0), allowed);  // the main thread is untouched
}

TEST(AffinityTest, SetAffinityPinsAThreadById) {
  const CpuSet one{affinity_of(0).first()};
  on_scratch_thread([&] {
    const pid_t tid = current_tid();
    set_affinity(tid, one);
    EXPECT_EQ(affinity_of(tid), one);
  });
}

TEST(AffinityTest, SetAffinityToAbsentCpuNamesThreadAndCpus) {
  // CPU 1023 fits in a cpu_set_t but exists on no test machine: EINVAL.
  on_scratch_thread([] {
    auto t = thrown_by([] { set_affinity(0, CpuSet{1023}); });
    EXPECT_EQ(t.message, "set CPU affinity of \"self to 1023\": Invalid argument");
    EXPECT_EQ(t.exit_code, kExitFailure);
  });
}

// CpuSet allows CPUs up to 8191; cpu_set_t holds 1024. The mask is sized for the CPU,
// so the kernel, not a fixed-size mask, answers for a CPU this machine lacks.
TEST(AffinityTest, CpusBeyondCpuSetSizeReachTheKernel) {
  on_scratch_thread([] {
    auto t = thrown_by([] { set_affinity(0, CpuSet{1100, 1101}); });
    EXPECT_EQ(t.message, "set CPU affinity of \"self to 1100,1101\": Invalid argument");
  });
}

TEST(AffinityTest, SetAffinityOfMissingThreadThrows) {
  auto t = thrown_by([] { set_affinity(kNoSuchThread, CpuSet{0}); });
  EXPECT_EQ(t.message, "set CPU affinity of \"thread 99999999 to 0\": No such process");
}

TEST(AffinityTest, SetAffinityAllSkipsThreadsThatExited) {
  const CpuSet one{affinity_of(0).last()};
  on_scratch_thread([&] {
    const pid_t tid = current_tid();
    EXPECT_EQ(set_affinity_all({kNoSuchThread, tid, kNoSuchThread + 1}, one), 1);
    EXPECT_EQ(affinity_of(tid), one);
  });
}

TEST(AffinityTest, SetAffinityAllPinsEveryThread) {
  const CpuSet one{affinity_of(0).first()};
  on_scratch_thread([&] {
    std::promise<pid_t> other_tid;
    std::promise<void> pinned;
    std::thread other([&] {
      other_tid.set_value(current_tid());
      pinned.get_future().wait();
    });
    const pid_t first = current_tid();
    const pid_t second = other_tid.get_future().get();
    EXPECT_EQ(set_affinity_all({first, second}, one), 2);
    EXPECT_EQ(affinity_of(first), one);
    EXPECT_EQ(affinity_of(second), one);
    pinned.set_value();
    other.join();
  });
}

TEST(AffinityTest, SetAffinityAllOfNoThreadsPinsNone) {
  EXPECT_EQ(set_affinity_all({}, CpuSet{0}), 0);
}

TEST(AffinityTest, SetAffinityAllThrowsOnOtherFailures) {
  on_scratch_thread([] {
    const pid_t tid = current_tid();
    auto t = thrown_by([&] { set_affinity_all({tid}, CpuSet{1023}); });
    EXPECT_EQ(t.message, "set CPU affinity of \"thread " + std::to_string(tid) +
                             " to 1023\": Invalid argument");
  });
}

}  // namespace
}  // namespace kcm
