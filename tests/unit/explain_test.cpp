// explain.h: the reason an allocation records, and the describe --owner document.
#include "explain.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

#include "report.h"
#include "test_support.h"

namespace kcm {
namespace {

using nlohmann::json;
using testing::ElementsAre;
using testing::IsEmpty;
using namespace testing_support;

// A sysfs where CPUs 2 and 3 are on node 1 (cpuN/nodeM links, as the kernel makes them)
// and `isolated` is cpu/isolated.
class ReasonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (int cpu : {2, 3}) {
      const std::string dir = sys / ("devices/system/cpu/cpu" + std::to_string(cpu));
      std::filesystem::create_directories(dir);
      std::filesystem::create_directory_symlink("../../node/node1", dir + "/node1");
      write_file(dir + "/online", "1\n");
    }
    write_file(sys / "devices/system/cpu/isolated", "2-3\n");
  }

  TempDir sys;
};

Choice one_list(std::vector<int> nodes = {}) {
  Choice c;
  c.lists = {CpuListName::parse("2-3")};
  c.rule = kRuleLowestFree;
  c.free_lists = 3;
  c.other_candidates = 2;
  c.nodes = std::move(nodes);
  return c;
}

TEST_F(ReasonTest, NodesAndIsolationOfASingleListComeFromTheCpusOwnEntries) {
  const AllocationReason r = allocation_reason(one_list(), CpuSet{2, 3}, sys.path());
  EXPECT_EQ(r, (AllocationReason{kRuleLowestFree, {1}, true, 3, 2}));
}

TEST_F(ReasonTest, NodesTheChoiceKnowsAreKept) {
  EXPECT_THAT(allocation_reason(one_list({0}), CpuSet{2, 3}, sys.path()).numa_nodes,
              ElementsAre(0));
}

TEST_F(ReasonTest, CpusPartlyOutsideIsolatedAreNotIsolated) {
  EXPECT_FALSE(allocation_reason(one_list(), CpuSet{1, 2}, sys.path()).isolated);
}

TEST(ReasonWithoutSysfsTest, LeavesWhatSysfsCannotSayEmpty) {
  TempDir empty;
  const AllocationReason r = allocation_reason(one_list(), CpuSet{2, 3}, empty / "none");
  EXPECT_THAT(r.numa_nodes, IsEmpty());
  EXPECT_FALSE(r.isolated);
  EXPECT_EQ(r.free_lists, 3);
}

// --- describe --owner ----------------------------------------------------------------

class DescribeOwnerTest : public ConfDirTest {
 protected:
  void SetUp() override {
    write_file(conf + "/pools/dataplane/exclusive", "1");
    write_file(conf + "/pools/dataplane/4,12/tasks", "2000");
    write_file(conf + "/pools/dataplane/5,13/tasks", "2000");
    record = Owner{"c1",
                   2000,
                   100,
                   "dataplane",
                   {"4,12", "5,13"},
                   "2026-11-30T04:17:45Z",
                   AllocationReason{kRuleSingleNode, {0}, false, 4, 2}};
  }
  OwnerDescription describe() const {
    return describe_owner(ConfigDir::open(conf).read(), record, Procfs(proc.root()));
  }

  FakeProcfs proc;
  Owner record;
};

TEST_F(DescribeOwnerTest, RunningHolderOnItsListsMatches) {
  proc.add_process(2000, 100, "4-5,12-13");
  write_file(proc.root() + "/2000/task/2000/stat", "");
  const json doc = owner_description_json(describe());
  EXPECT_EQ(to_document(doc), R"({
  "cpuLists": {
    "4,12": "4,12",
    "5,13": "5,13"
  },
  "cpus": "4,5,12,13",
  "created": "2026-11-30T04:17:45Z",
  "masks": {
    "match": true,
    "threads": [
      {
        "actualCpus": [
          4,
          5,
          12,
          13
        ],
        "match": true,
        "tid": 2000
      }
    ]
  },
  "owner": "c1",
  "pid": 2000,
  "pool": "dataplane",
  "reason": {
    "candidates": 2,
    "freeLists": 4,
    "isolated": false,
    "numaNodes": [
      0
    ],
    "rule": "exclusive-single-node"
  },
  "running": true,
  "startTime": 100
}
)");
}

TEST_F(DescribeOwnerTest, AThreadOnOtherCpusIsAMismatch) {
  proc.add_process(2000, 100, "4-5,12-13");
  proc.add_process(2001, 100, "0-15");
  write_file(proc.root() + "/2000/task/2000/stat", "");
  write_file(proc.root() + "/2000/task/2001/stat", "");
  const json doc = owner_description_json(describe());
  EXPECT_FALSE(doc["masks"]["match"]);
  EXPECT_TRUE(doc["masks"]["threads"][0]["match"]);
  EXPECT_FALSE(doc["masks"]["threads"][1]["match"]);
}

TEST_F(DescribeOwnerTest, HolderThatIsGoneOrReusedIsNotRunning) {
  const json gone = owner_description_json(describe());
  EXPECT_FALSE(gone["running"]);
  EXPECT_FALSE(gone["masks"]["match"]);
  EXPECT_THAT(gone["masks"]["threads"], IsEmpty());
  proc.add_process(2000, 999, "4-5,12-13");  // PID reused
  EXPECT_FALSE(owner_description_json(describe())["running"]);
}

TEST_F(DescribeOwnerTest, RecordWithoutReasonShowsNull) {
  record.reason.reset();
  EXPECT_TRUE(owner_description_json(describe())["reason"].is_null());
}

}  // namespace
}  // namespace kcm
