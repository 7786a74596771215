#include "pool_layout.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <map>
#include <set>

#include "error.h"
#include "test_support.h"

namespace kcm {
namespace {

namespace stdfs = std::filesystem;
using testing::ElementsAre;
using testing::IsEmpty;
using namespace testing_support;

const std::string kTopologies = std::string(KCM_FIXTURES_DIR) + "/topologies";

// A sysfs tree of `cores` cores with two threads each, siblings N and N+cores (the CLI
// document's 16-CPU machine for cores = 8). `node_cpus` lists each NUMA node's CPUs.
class TempSysfs {
 public:
  explicit TempSysfs(int cores, const std::vector<std::string>& node_cpus = {},
                     const std::string& isolated = "") {
    const std::string cpu = dir_ / "devices/system/cpu";
    const std::string all = "0-" + std::to_string(2 * cores - 1);
    write_file(cpu + "/online", all + "\n");
    write_file(cpu + "/present", all + "\n");
    write_file(cpu + "/possible", all + "\n");
    write_file(cpu + "/isolated", isolated + "\n");
    for (int n = 0; n < 2 * cores; ++n) {
      const int first = n % cores;
      const std::string topo = cpu + "/cpu" + std::to_string(n) + "/topology/";
      write_file(topo + "thread_siblings_list",
                 std::to_string(first) + "," + std::to_string(first + cores) + "\n");
      write_file(topo + "core_siblings_list", all + "\n");
    }
    const std::vector<std::string> nodes = node_cpus.empty() ? std::vector{all} : node_cpus;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      write_file(dir_ / ("devices/system/node/node" + std::to_string(i) + "/cpulist"),
                 nodes[i] + "\n");
    }
  }
  Topology read() const { return Topology::read(dir_.path()); }

 private:
  TempDir dir_;
};

TEST(PoolLayoutTest, DocumentExampleOnSixteenCpus) {
  const PoolLayout layout = plan_pools(TempSysfs(8).read(), 4, 1);
  const auto& pools = layout.config.pools;
  ASSERT_EQ(pools.size(), 3u);
  EXPECT_THAT(list_names(pools.at("dataplane")), ElementsAre("4,12", "5,13", "6,14", "7,15"));
  EXPECT_THAT(list_names(pools.at("controlplane")), ElementsAre("3,11"));
  EXPECT_THAT(list_names(pools.at("infra")), ElementsAre("0-2,8-10"));
  EXPECT_TRUE(pools.at("dataplane").exclusive);
  EXPECT_FALSE(pools.at("controlplane").exclusive);
  EXPECT_FALSE(pools.at("infra").exclusive);
  EXPECT_EQ(pools.at("dataplane").name, "dataplane");
  EXPECT_EQ(pools.at("infra").lists.at("0-2,8-10").cpus, CpuSet::parse("0-2,8-10"));
  EXPECT_TRUE(pools.at("infra").lists.at("0-2,8-10").tasks.empty());
  EXPECT_THAT(layout.warnings, IsEmpty());
}

TEST(PoolLayoutTest, ControlplaneTakesSeveralCoresInOneList) {
  const PoolLayout layout = plan_pools(TempSysfs(8).read(), 2, 3);
  EXPECT_THAT(list_names(layout.config.pools.at("dataplane")), ElementsAre("6,14", "7,15"));
  EXPECT_THAT(list_names(layout.config.pools.at("controlplane")), ElementsAre("3-5,11-13"));
  EXPECT_THAT(list_names(layout.config.pools.at("infra")), ElementsAre("0-2,8-10"));
}

TEST(PoolLayoutTest, InfraKeepsOneCoreAtLeast) {
  const PoolLayout layout = plan_pools(TempSysfs(8).read(), 6, 1);
  EXPECT_THAT(list_names(layout.config.pools.at("infra")), ElementsAre("0,8"));
  EXPECT_THAT(list_names(layout.config.pools.at("controlplane")), ElementsAre("1,9"));
}

TEST(PoolLayoutTest, TooFewCoresIsAUsageError) {
  auto t = thrown_by([] { plan_pools(TempSysfs(8).read(), 7, 1); });
  EXPECT_EQ(t.message,
            "not enough physical cores: this machine has 8 online, 7 dataplane + 1 "
            "controlplane + at least 1 infra need 9");
  EXPECT_EQ(t.exit_code, kExitUsage);
}

TEST(PoolLayoutTest, TooFewCoresOnARealMachine) {
  const Topology topology = Topology::read(kTopologies + "/8em64t-4c2t/sys");
  auto t = thrown_by([&] { plan_pools(topology, 4, 1); });
  EXPECT_EQ(t.message,
            "not enough physical cores: this machine has 4 online, 4 dataplane + 1 "
            "controlplane + at least 1 infra need 6");
  EXPECT_EQ(t.exit_code, kExitUsage);
}

TEST(PoolLayoutTest, NegativeCountsAreUsageErrors) {
  const Topology topology = TempSysfs(8).read();
  auto dp = thrown_by([&] { plan_pools(topology, -1, 1); });
  EXPECT_EQ(dp.message, "--num-dp-cores must not be negative");
  EXPECT_EQ(dp.exit_code, kExitUsage);
  auto cp = thrown_by([&] { plan_pools(topology, 1, -1); });
  EXPECT_EQ(cp.message, "--num-cp-cores must not be negative");
  EXPECT_EQ(cp.exit_code, kExitUsage);
}

TEST(PoolLayoutTest, IsolatedCoresArePreferredForDataplane) {
  const PoolLayout layout = plan_pools(TempSysfs(8, {}, "0,1,8,9").read(), 2, 1);
  EXPECT_THAT(list_names(layout.config.pools.at("dataplane")), ElementsAre("0,8", "1,9"));
  EXPECT_THAT(list_names(layout.config.pools.at("controlplane")), ElementsAre("7,15"));
  EXPECT_THAT(list_names(layout.config.pools.at("infra")), ElementsAre("2-6,10-14"));
  EXPECT_THAT(layout.warnings, IsEmpty());
}

TEST(PoolLayoutTest, TooFewIsolatedCoresIsAWarning) {
  const PoolLayout layout = plan_pools(TempSysfs(8, {}, "0,8").read(), 2, 1);
  EXPECT_THAT(list_names(layout.config.pools.at("dataplane")), ElementsAre("0,8", "7,15"));
  EXPECT_THAT(layout.warnings, ElementsAre("only 1 of 2 dataplane cores are isolated (isolcpus=)"));
}

TEST(PoolLayoutTest, HalfIsolatedCoreIsNotIsolated) {
  // Only one thread of core 0 is isolated: the core is not, and ranks by number.
  const PoolLayout layout = plan_pools(TempSysfs(8, {}, "0").read(), 1, 1);
  EXPECT_THAT(list_names(layout.config.pools.at("dataplane")), ElementsAre("7,15"));
}

TEST(PoolLayoutTest, DataplaneOnTheHighestNodeThatHoldsIt) {
  const PoolLayout layout = plan_pools(TempSysfs(8, {"0-3,8-11", "4-7,12-15"}).read(), 4, 1);
  EXPECT_THAT(list_names(layout.config.pools.at("dataplane")),
              ElementsAre("4,12", "5,13", "6,14", "7,15"));
  EXPECT_THAT(layout.warnings, IsEmpty());
}

TEST(PoolLayoutTest, DataplaneSkipsANodeTooSmallForIt) {
  // Node 1 (cores 6, 7) holds the highest cores but cannot take 4 dataplane cores.
  const PoolLayout layout = plan_pools(TempSysfs(8, {"0-5,8-13", "6,7,14,15"}).read(), 4, 1);
  EXPECT_THAT(list_names(layout.config.pools.at("dataplane")),
              ElementsAre("2,10", "3,11", "4,12", "5,13"));
  EXPECT_THAT(list_names(layout.config.pools.at("controlplane")), ElementsAre("7,15"));
  EXPECT_THAT(list_names(layout.config.pools.at("infra")), ElementsAre("0,1,6,8,9,14"));
  EXPECT_THAT(layout.warnings, IsEmpty());
}

TEST(PoolLayoutTest, DataplaneSpansNodesWithAWarningWhenNoNodeSuffices) {
  const PoolLayout layout = plan_pools(TempSysfs(8, {"0-3,8-11", "4-7,12-15"}).read(), 5, 1);
  EXPECT_THAT(list_names(layout.config.pools.at("dataplane")),
              ElementsAre("3,11", "4,12", "5,13", "6,14", "7,15"));
  EXPECT_THAT(layout.warnings,
              ElementsAre("no NUMA node has 5 cores; the dataplane pool spans nodes"));
}

TEST(PoolLayoutTest, IsolatedNodeWinsOverHigherNode) {
  // Node 0's cores 2 and 3 are isolated; node 1 is higher but has none.
  const PoolLayout layout =
      plan_pools(TempSysfs(8, {"0-3,8-11", "4-7,12-15"}, "2,3,10,11").read(), 2, 1);
  EXPECT_THAT(list_names(layout.config.pools.at("dataplane")), ElementsAre("2,10", "3,11"));
  EXPECT_THAT(layout.warnings, IsEmpty());
}

TEST(PoolLayoutTest, OfflineCpusAreNeverUsed) {
  // 16amd64-8n2c-cpusets: CPU 4 is offline.
  const Topology topology = Topology::read(kTopologies + "/16amd64-8n2c-cpusets/sys");
  const PoolLayout layout = plan_pools(topology, 4, 1);
  for (const auto& [name, pool] : layout.config.pools) {
    for (const auto& [list_name, list] : pool.lists) {
      EXPECT_FALSE(list.cpus.contains(4)) << name << ":" << list_name;
    }
  }
}

// --- every real machine -------------------------------------------------------------------

std::vector<std::string> machines() {
  std::vector<std::string> out;
  for (const auto& e : stdfs::directory_iterator(kTopologies)) {
    if (e.is_directory()) out.push_back(e.path().filename());
  }
  std::sort(out.begin(), out.end());
  return out;
}

class PoolLayoutMachineTest : public testing::TestWithParam<std::string> {
 protected:
  Topology topology() const { return Topology::read(kTopologies + "/" + GetParam() + "/sys"); }
};

constexpr int kDp = 4;
constexpr int kCp = 1;
constexpr std::size_t kCoresNeeded = kDp + kCp + 1;  // infra keeps one

TEST_P(PoolLayoutMachineTest, TooFewCoresOrEveryOnlineCpuInExactlyOneList) {
  const Topology t = topology();
  if (t.cores().size() < kCoresNeeded) {
    EXPECT_EQ(thrown_by([&] { plan_pools(t, kDp, kCp); }).exit_code, kExitUsage);
    return;
  }
  const PoolLayout layout = plan_pools(t, kDp, kCp);
  CpuSet seen;
  for (const auto& [name, pool] : layout.config.pools) {
    for (const auto& [list_name, list] : pool.lists) {
      EXPECT_EQ(list.name, list.cpus.to_string());
      EXPECT_FALSE(seen.intersects(list.cpus)) << name << ":" << list_name;
      seen.add(list.cpus);
    }
  }
  EXPECT_EQ(seen, t.online());
}

TEST_P(PoolLayoutMachineTest, DataplaneListsAreWholeCores) {
  const Topology t = topology();
  if (t.cores().size() < kCoresNeeded) GTEST_SKIP() << "too few cores";
  const std::vector<CpuSet> cores = t.cores();
  const PoolLayout layout = plan_pools(t, kDp, kCp);
  const Pool& dp = layout.config.pools.at("dataplane");
  EXPECT_EQ(dp.lists.size(), static_cast<std::size_t>(kDp));
  for (const auto& [name, list] : dp.lists) {
    EXPECT_NE(std::find(cores.begin(), cores.end(), list.cpus), cores.end()) << name;
  }
}

TEST_P(PoolLayoutMachineTest, ControlplaneIsOneListOfWholeCores) {
  const Topology t = topology();
  if (t.cores().size() < kCoresNeeded) GTEST_SKIP() << "too few cores";
  const PoolLayout layout = plan_pools(t, kDp, kCp);
  const Pool& cp = layout.config.pools.at("controlplane");
  ASSERT_EQ(cp.lists.size(), 1u);
  const CpuSet cpus = cp.lists.begin()->second.cpus;
  const std::vector<CpuSet> cores = t.cores();
  EXPECT_NE(std::find(cores.begin(), cores.end(), cpus), cores.end()) << cpus.to_string();
}

TEST_P(PoolLayoutMachineTest, DataplaneOnOneNodeWhenOneNodeHasEnoughCores) {
  const Topology t = topology();
  if (t.cores().size() < kCoresNeeded) GTEST_SKIP() << "too few cores";
  std::map<int, int> cores_per_node;
  for (const CpuSet& core : t.cores()) ++cores_per_node[t.node_of(core.first())];
  bool fits = false;
  for (const auto& [node, n] : cores_per_node) fits = fits || n >= kDp;
  const PoolLayout layout = plan_pools(t, kDp, kCp);
  std::set<int> nodes;
  for (const auto& [name, list] : layout.config.pools.at("dataplane").lists) {
    for (int cpu : list.cpus.cpus()) nodes.insert(t.node_of(cpu));
  }
  if (fits) {
    EXPECT_EQ(nodes.size(), 1u);
    EXPECT_THAT(layout.warnings, IsEmpty());
  } else {
    EXPECT_THAT(layout.warnings,
                ElementsAre("no NUMA node has 4 cores; the dataplane pool spans nodes"));
  }
}

INSTANTIATE_TEST_SUITE_P(Fixtures, PoolLayoutMachineTest, testing::ValuesIn(machines()),
                         fixture_test_name);

}  // namespace
}  // namespace kcm
